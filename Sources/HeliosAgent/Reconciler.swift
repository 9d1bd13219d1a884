import DockerEngine
import Foundation
import HeliosModel
import HeliosStore
import Logging

/// One reconcile pass: hands each of the host's tasks to its supervisor and sweeps the
/// containers no task claims.
///
/// Containers carry `helios.host`, `helios.job` and `helios.deployment` labels and are
/// found by them, so a restarted agent adopts what is running instead of starting it again.
actor Reconciler {
    let context: HostContext
    private var supervisors: [JobID: TaskSupervisor] = [:]
    /// The tasks as last read from ZooKeeper: while it is unreachable, the host keeps to them.
    private var knownTasks: [JobID: HostTask]?
    private var loadedStatuses = false
    /// Containers being stopped and removed, by id: a stop takes up to its timeout and must
    /// not hold up the pass, nor be started twice.
    private var removing: [String: Task<Void, Never>] = [:]

    init(context: HostContext) {
        self.context = context
        knownTasks = context.taskCache.load()
    }

    private var logger: Logger { context.logger }

    /// Another agent holds the host (this one's registration went, and another took it): this
    /// one changes nothing — no container created, started, stopped or removed, no status — until
    /// the host is its again.
    private var displaced = false

    func reconcile() async {
        guard await holdsHost() else { return }
        let tasks: [JobID: HostTask]
        do {
            tasks = try await context.store.tasks(of: context.host, watch: true)
            if tasks != knownTasks {
                do {
                    try context.taskCache.save(tasks)
                } catch {
                    logger.warning("caching the tasks in the state directory failed", metadata: ["error": "\(error)"])
                }
            }
            knownTasks = tasks
        } catch HeliosStoreError.journalInProgress {
            // A plan is being replayed: act on it once it is whole (its end wakes a pass).
            logger.debug("a plan is being written; waiting for it to finish")
            return
        } catch {
            guard let knownTasks else {
                logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
                return
            }
            // ZooKeeper is away: keep every container as it was told, restart crashed ones from the
            // tasks already known; statuses go out once it is back (the reporter keeps them).
            logger.warning("ZooKeeper unreachable; keeping to the last known tasks", metadata: ["error": "\(error)"])
            tasks = knownTasks
        }
        do {
            if !loadedStatuses {
                try await context.reporter.load()
                loadedStatuses = true
            }
        } catch {
            logger.warning("reading the host's task statuses failed", metadata: ["error": "\(error)"])
        }
        do {
            let containers = try await context.docker.listContainers(
                all: true, labels: ["\(HostContext.hostLabel)=\(context.host)"])
            await context.ports.refresh(containers, jobLabel: HostContext.jobLabel)
            // One listing per pass: each supervisor gets its task's containers from it.
            let byJob = Dictionary(grouping: containers) { $0.labels[HostContext.jobLabel].flatMap(JobID.init) }
            // Stops first: a task gone from ZooKeeper is undeployed like one whose goal says so.
            for (id, supervisor) in supervisors where tasks[id] == nil {
                await supervisor.offer(HostTask(jobID: id, goal: .undeploy, deployment: await supervisor.deployment))
            }
            for (id, task) in tasks where task.goal == .undeploy {
                await supervisors[id]?.offer(task, containers: byJob[id, default: []])
            }
            var makingWay: Set<String> = []
            for supervisor in supervisors.values {
                if let deployment = await supervisor.makingWayFor { makingWay.insert(deployment) }
            }
            for (id, task) in tasks.sorted(by: { $0.key < $1.key }) where task.goal != .undeploy || supervisors[id] == nil {
                // A deployment's new task starts once its old one here has stopped (no overlap).
                if supervisors[id] == nil && task.goal == .start && makingWay.contains(task.deployment) { continue }
                let supervisor = supervisors[id] ?? TaskSupervisor(task: task, context: context)
                supervisors[id] = supervisor
                await supervisor.offer(task, containers: byJob[id, default: []])
            }
            for (id, supervisor) in supervisors where await supervisor.isRetired {
                if tasks[id] == nil || tasks[id]?.goal == .undeploy { supervisors[id] = nil }
            }
            sweep(containers, live: Set(tasks.filter { $0.value.goal != .undeploy }.keys))
            await context.reporter.keepOnly(Set(tasks.filter { $0.value.goal != .undeploy }.keys).union(supervisors.keys))
            await context.reporter.flush()
        } catch {
            logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
        }
    }

    /// Whether this agent may act on the host: its registration is there, or it registers again
    /// (after an expiry, or a registration another process removed). With ZooKeeper away, it
    /// cannot tell and keeps to what it knows.
    private func holdsHost() async -> Bool {
        let registration = context.registration
        do {
            if try await context.store.holdsRegistration(of: context.host, agentID: registration.agentID) { return true }
            try await context.store.registerHost(context.host, agentID: registration.agentID, info: registration.info,
                                                 labels: registration.labels)
            logger.warning("host registered again", metadata: ["agent.id": "\(registration.agentID)"])
            displaced = false
            return true
        } catch HeliosStoreError.hostTaken(_, let other) {
            if !displaced {
                logger.error("another agent holds this host: changing nothing until it is gone", metadata: ["agent.id": "\(other)"])
                displaced = true
                await stop() // their work ends; the containers stay as they are
            }
            return false
        } catch {
            return !displaced
        }
    }

    /// Ends every supervisor's work in progress (the session is ending); containers stay as they are.
    func stop() async {
        for supervisor in supervisors.values { await supervisor.stop() }
        supervisors = [:]
        // Removals in progress end too: the next session's sweep finds what they left.
        let removals = removing.values
        for removal in removals { removal.cancel() }
        for removal in removals { await removal.value }
    }

    /// A container of this host changed (Docker's event stream): its supervisor looks now
    /// rather than at the next pass.
    func containerChanged(_ event: DockerEvent) async {
        guard !displaced, let id = event.actor.attributes[HostContext.jobLabel].flatMap(JobID.init),
              let task = knownTasks?[id], let supervisor = supervisors[id] else { return }
        await supervisor.offer(task)
    }

    /// Containers of tasks the host no longer runs: a running one that no supervisor is
    /// stopping belongs to nobody (left by a crash, or foreign) and is reaped; of stopped ones,
    /// the newest per deployment is kept for inspection and the rest removed.
    private func sweep(_ containers: [ContainerSummary], live: Set<JobID>) {
        var kept: Set<String> = []
        for container in containers.sorted(by: { $0.created > $1.created }) {
            let id = container.labels[HostContext.jobLabel].flatMap(JobID.init)
            if let id, live.contains(id) { continue }
            switch container.state {
            case .running, .restarting, .paused:
                if let id, supervisors[id] != nil { continue }
                remove(container)
            case .exited, .dead:
                guard id == nil || !kept.insert(container.labels[HostContext.deploymentLabel] ?? "").inserted else { continue }
                remove(container)
            default:
                remove(container) // created and never started
            }
        }
    }

    /// Stops (as gently as the container's job asked, recorded in its labels) and removes it.
    private func remove(_ container: ContainerSummary) {
        guard removing[container.id] == nil else { return }
        let context = context
        let logger = context.logger
        removing[container.id] = Task {
            do {
                if container.state.isAlive {
                    try await context.stopContainer(container.id, StopPolicy(labels: container.labels) ?? StopPolicy())
                }
                try await context.docker.removeContainer(container.id, force: true)
                logger.info("container removed", metadata: ["container.id": "\(container.id)", "container.name": "\(container.name)"])
            } catch let error as DockerError where error.code == .notFound {
            } catch {
                logger.warning("removing container failed", metadata: ["container.id": "\(container.id)", "error": "\(error)"])
            }
            finishedRemoving(container.id)
        }
    }

    private func finishedRemoving(_ id: String) {
        removing[id] = nil
    }
}
