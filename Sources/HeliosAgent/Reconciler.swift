import DockerEngine
import Foundation
import HeliosModel
import HeliosStore
import Logging

/// One reconcile pass: diff the host's tasks against its labelled containers and converge.
///
/// Containers carry `helios.host`, `helios.job` and `helios.deployment` labels and are
/// found by them, so a restarted agent adopts what is running instead of starting it again.
actor Reconciler {
    static let hostLabel = "helios.host"
    static let jobLabel = "helios.job"
    static let deploymentLabel = "helios.deployment"

    let host: String
    let store: HeliosStore
    let docker: DockerClient
    let ports: PortAllocator
    let logger: Logger
    private var jobs: [JobID: Job] = [:]
    /// Host ports this host's containers hold, as of this pass.
    private var takenPorts: Set<Int> = []
    private var flaps = FlapDetector()
    /// The tasks as last read from ZooKeeper: while it is unreachable, the host keeps to them.
    private var knownTasks: [JobID: HostTask]?
    private var reported: [JobID: TaskStatus] = [:]
    /// Containers being stopped and removed, by id: a graceful stop takes up to the stop
    /// timeout and must not hold up the pass, nor be started twice.
    private var removing: [String: Task<Void, Never>] = [:]

    init(host: String, store: HeliosStore, docker: DockerClient, ports: PortAllocator, logger: Logger) {
        self.host = host
        self.store = store
        self.docker = docker
        self.ports = ports
        self.logger = logger
    }

    func reconcile() async {
        let tasks: [JobID: HostTask]
        do {
            tasks = try await store.tasks(of: host, watch: true)
            knownTasks = tasks
        } catch {
            guard let knownTasks else {
                logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
                return
            }
            // ZooKeeper is away: keep every container as it was told, restart crashed ones from the
            // jobs already known; statuses go out once it is back (`report` retries them).
            logger.warning("ZooKeeper unreachable; keeping to the last known tasks", metadata: ["error": "\(error)"])
            tasks = knownTasks
        }
        do {
            let containers = try await docker.listContainers(all: true, labels: ["\(Self.hostLabel)=\(host)"])
            let byJob = Dictionary(grouping: containers) { $0.labels[Self.jobLabel] ?? "" }
            takenPorts = Set(containers.flatMap { PortAllocator.decode($0.labels[PortAllocator.label]).values })

            for (id, task) in tasks.sorted(by: { $0.key < $1.key }) {
                await converge(task, containers: byJob[id.description] ?? [])
            }
            // What the host keeps: an UNDEPLOY task's container and status go like an unassigned one's.
            let kept = tasks.filter { $0.value.goal != .undeploy }
            for container in containers where container.labels[Self.jobLabel].flatMap(JobID.init).flatMap({ kept[$0] }) == nil {
                removeContainer(container)
            }
            for id in reported.keys where kept[id] == nil {
                try await store.removeTaskStatus(id, host: host)
                reported[id] = nil
                jobs[id] = nil
                flaps.forget(id)
            }
        } catch {
            logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
        }
    }

    private func converge(_ task: HostTask, containers: [ContainerSummary]) async {
        // One container per task: extra ones (a crash between create and record) go.
        let ordered = containers.sorted { ($0.state == "running" ? 0 : 1, $0.id) < ($1.state == "running" ? 0 : 1, $1.id) }
        for extra in ordered.dropFirst() { removeContainer(extra) }
        let container = ordered.first

        switch task.goal {
        case .start:
            await start(task, container: container)
        case .stop:
            guard let container else {
                await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .stopped))
                return
            }
            if container.state == "running" {
                await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .stopping, containerID: container.id))
                do {
                    try await docker.stopContainer(container.id)
                } catch {
                    logger.warning("stopping container failed", metadata: ["container.id": "\(container.id)", "error": "\(error)"])
                    return
                }
            }
            await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .stopped, containerID: container.id))
        case .undeploy:
            break // the container goes with the sweep of unassigned containers
        }
    }

    private func start(_ task: HostTask, container: ContainerSummary?) async {
        var containerID = container?.id
        do {
            if container?.state == "running" {
                await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .running, containerID: containerID,
                                        throttled: throttle(task.jobID)))
                return
            }
            if let container, !flaps.mayStart(task.jobID, now: .now) {
                // Crash-looping: this restart waits for its back-off.
                await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .exited, containerID: container.id,
                                        throttled: .flapping))
                return
            }
            if containerID == nil {
                guard let job = try await job(task.jobID) else { return }
                guard try await docker.imageExists(job.image) else {
                    await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .failed,
                                            containerError: "image \(job.image) is not on this host",
                                            throttled: .imageMissing))
                    return
                }
                guard let hostPorts = ports.allocate(job, taken: &takenPorts) else {
                    await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .failed,
                                            containerError: "no free host port in \(ports.range)"))
                    return
                }
                await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .creating))
                containerID = try await docker.createContainer(name: containerName(job),
                                                               spec: spec(for: job, task: task, hostPorts: hostPorts))
                logger.info("container created", metadata: ["job.id": "\(task.jobID)", "container.id": "\(containerID!)"])
            }
            await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .starting, containerID: containerID,
                                    throttled: throttle(task.jobID)))
            flaps.started(task.jobID, now: .now)
            try await docker.startContainer(containerID!)
            let details = try await docker.inspectContainer(containerID!)
            let state: TaskStatus.State = details.state.running ? .running : .exited
            await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: state, containerID: containerID,
                                    containerError: details.state.error.isEmpty ? nil : details.state.error,
                                    throttled: throttle(task.jobID)))
        } catch {
            logger.warning("starting task failed", metadata: ["job.id": "\(task.jobID)", "error": "\(error)"])
            await report(TaskStatus(jobID: task.jobID, goal: task.goal, state: .failed, containerID: containerID,
                                    containerError: "\(error)"))
        }
    }

    private func removeContainer(_ container: ContainerSummary) {
        guard removing[container.id] == nil else { return }
        removing[container.id] = Task {
            await stopAndRemove(container)
            finishedRemoving(container.id)
        }
    }

    private func finishedRemoving(_ id: String) {
        removing[id] = nil
    }

    private func stopAndRemove(_ container: ContainerSummary) async {
        do {
            if container.state == "running" { try await docker.stopContainer(container.id) }
            try await docker.removeContainer(container.id, force: true)
            logger.info("container removed", metadata: ["container.id": "\(container.id)", "container.name": "\(container.name)"])
        } catch let error as DockerError where error.isNotFound {
            return
        } catch {
            logger.warning("removing container failed", metadata: ["container.id": "\(container.id)", "error": "\(error)"])
        }
    }

    private func job(_ id: JobID) async throws -> Job? {
        if let job = jobs[id] { return job }
        let job = try await store.job(id)
        jobs[id] = job
        return job
    }

    /// FLAPPING while the task is crash-looping, as of now.
    private func throttle(_ id: JobID) -> TaskStatus.Throttle? {
        flaps.isFlapping(id, now: .now) ? .flapping : nil
    }

    /// The container a task runs: the job's settings, its ports published on loopback and
    /// named in the environment, and the labels that tie it to the task.
    func spec(for job: Job, task: HostTask, hostPorts: [String: Int]) -> ContainerSpec {
        var environment = job.env ?? [:]
        for (name, port) in hostPorts { environment[PortAllocator.environmentName(name)] = "\(port)" }
        var labels = job.labels ?? [:]
        labels[Self.hostLabel] = host
        labels[Self.jobLabel] = task.jobID.description
        labels[Self.deploymentLabel] = task.deployment
        if !hostPorts.isEmpty { labels[PortAllocator.label] = PortAllocator.encode(hostPorts) }
        let published = job.networkMode == "host" ? [] : (job.ports ?? [:]).sorted { $0.key < $1.key }.compactMap { name, mapping in
            hostPorts[name].map { PublishedPort(containerPort: mapping.internal, hostPort: $0, protocol: mapping.effectiveProtocol) }
        }
        return ContainerSpec(
            image: job.image, command: job.command, environment: environment, labels: labels, ports: published,
            volumes: job.volumes ?? [], tmpfs: job.ramdisks ?? [:], memory: job.resources?.memory,
            memorySwap: job.resources?.memorySwap, cpuShares: job.resources?.cpuShares, cpuset: job.resources?.cpuset,
            networkMode: job.networkMode, hostname: job.hostname, addCapabilities: job.addCapabilities ?? [],
            dropCapabilities: job.dropCapabilities ?? [], securityOptions: job.securityOpt ?? [])
    }

    /// `helios-<host>-<job>-<version>-<hash>`: readable in `docker ps`, unique per task.
    func containerName(_ job: Job) -> String {
        let raw = "helios-\(host)-\(job.name)-\(job.version)-\(job.id.hash.prefix(8))"
        return String(raw.map { $0.isLetter || $0.isNumber || "_.-".contains($0) ? $0 : "_" })
    }

    /// Writes a status when it changed; a failed write is retried by the next pass.
    private func report(_ status: TaskStatus) async {
        guard reported[status.jobID] != status else { return }
        do {
            try await store.setTaskStatus(status, host: host)
            try await store.appendTaskHistory(status, host: host)
            reported[status.jobID] = status
        } catch {
            logger.warning("writing task status failed", metadata: ["job.id": "\(status.jobID)", "error": "\(error)"])
        }
    }
}
