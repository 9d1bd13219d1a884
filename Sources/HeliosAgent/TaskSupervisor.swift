import DockerEngine
import Foundation
import HeliosModel
import HeliosStore
import Logging

/// What every task supervisor of a host shares.
struct HostContext: Sendable {
    static let hostLabel = "helios.host"
    static let jobLabel = "helios.job"
    static let deploymentLabel = "helios.deployment"

    let host: String
    let store: HeliosStore
    let docker: DockerClient
    let ports: PortLedger
    let reporter: StatusReporter
    let registries: DockerConfig
    let logger: Logger
    /// Asks for a reconcile pass now (a task that waited for another to stop may start).
    let wake: @Sendable () -> Void
    /// Where the tasks last read are kept for an agent that starts without ZooKeeper.
    let taskCache: TaskCache
    /// How this agent registers the host: again whenever its registration is found gone.
    let registration: Registration
    /// What the host lets a job do.
    let policy: HostPolicy
    /// Where the values of jobs' secret references are.
    let secrets: HostSecrets
}

/// What an agent registers its host with.
struct Registration: Sendable {
    let agentID: String
    let info: HostInfo
    let labels: [String: String]
}

/// Runs one task on this host through Helios' states: PULLING_IMAGE → CREATING → STARTING →
/// HEALTHCHECKING → RUNNING, EXITED and restarted (backing off while FLAPPING), STOPPING →
/// STOPPED. Each task has its own, so a slow pull or a failing health check holds up no other.
///
/// The supervisor is level-triggered: `offer` hands it the task as ZooKeeper has it, and it
/// converges from what Docker says now. While it works, further offers of the same goal
/// only ask for one more look afterwards; a new goal cancels the work in progress.
actor TaskSupervisor {
    let jobID: JobID
    private let context: HostContext
    private var task: HostTask
    /// The goal of the step in progress, which its statuses carry (a new offer may already
    /// have changed `task` while a cancelled step winds down).
    private var stepGoal: Goal
    private var job: Job?
    private var work: Task<Void, Never>?
    private var workGoal: Goal?
    private var lookAgain = false
    /// Whether, after a setback, to try again now, wait or give up, and why.
    private var restarts: RestartTracker
    /// The containers of the task as the reconcile pass that offered it listed them: the next
    /// step uses them instead of asking Docker again.
    private var listed: [ContainerSummary]?
    /// The container that passed its health check (or has none to pass): RUNNING.
    private var healthyContainer: String?
    /// The task was undeployed and its container stopped: the supervisor may go.
    private(set) var isRetired = false

    /// The deployment that put the task here.
    var deployment: String { task.deployment }

    init(task: HostTask, context: HostContext) {
        jobID = task.jobID
        self.task = task
        stepGoal = task.goal
        self.context = context
        restarts = RestartTracker()
    }

    /// The deployment whose task this one is making way for: undeployed, its container not yet
    /// stopped. The deployment's new task on this host waits for it (no overlap), unless the
    /// rollout keeps the old task until the new one runs (`overlap`).
    var makingWayFor: String? {
        task.goal == .undeploy && !isRetired ? deployment : nil
    }

    /// The task as ZooKeeper has it now; `containers`: its containers as a reconcile pass just
    /// listed them (nil: the supervisor asks Docker).
    func offer(_ task: HostTask, containers: [ContainerSummary]? = nil) {
        self.task = task
        if task.goal != .undeploy { isRetired = false }
        if work != nil, workGoal == task.goal {
            lookAgain = true
            return
        }
        let previous = work
        previous?.cancel()
        workGoal = task.goal
        lookAgain = false
        // Work that winds down first may change the containers: then the listing is stale.
        listed = previous == nil ? containers : nil
        work = Task {
            await previous?.value
            await self.converge()
        }
    }

    /// Cancels the work in progress and waits for it to end.
    func stop() async {
        let running = work
        running?.cancel()
        await running?.value
    }

    /// Converges until no offer came in meanwhile; a cancelled run leaves the next one in charge.
    private func converge() async {
        repeat {
            lookAgain = false
            do {
                try await step(task)
            } catch is CancellationError {
                return
            } catch let error as DockerError where error.code == .invalidRequest && task.goal == .start {
                // The same job would be refused again: FAILED until it changes.
                let decision = restarts.failed(.refused, now: .now)
                context.logger.error("Docker refused the task's container", metadata: ["job.id": "\(jobID)", "error": "\(error)"])
                await report(.failed, containerError: "\(error.message) (\(error.remedy))", throttled: decision.reason)
            } catch {
                context.logger.warning("task failed", metadata: ["job.id": "\(jobID)", "error": "\(error)"])
                await report(.failed, containerError: "\(error)")
            }
        } while lookAgain && !Task.isCancelled
        if !Task.isCancelled {
            work = nil
            workGoal = nil
        }
    }

    private func step(_ task: HostTask) async throws {
        stepGoal = task.goal
        let containers: [ContainerSummary]
        if let listed {
            containers = listed
            self.listed = nil
        } else {
            containers = try await context.docker.listContainers(
                all: true, labels: ["\(HostContext.hostLabel)=\(context.host)", "\(HostContext.jobLabel)=\(jobID)"])
        }
        // One container per task: extra ones (a crash between create and record) go.
        let ordered = containers.sorted { ($0.state == .running ? 0 : 1, -$0.created) < ($1.state == .running ? 0 : 1, -$1.created) }
        for extra in ordered.dropFirst() { try? await context.docker.removeContainer(extra.id, force: true) }
        let container = ordered.first

        switch task.goal {
        case .start:
            if restarts.gaveUp != nil {
                // Refused before: the status stays FAILED, nothing is tried again.
                return
            }
            try await run(container)
        case .stop:
            try await stop(container)
            await report(.stopped, containerID: container?.id)
        case .undeploy:
            try await stop(container)
            await context.reporter.remove(jobID)
            isRetired = true
            context.wake()
        }
    }

    // MARK: Running

    private func run(_ container: ContainerSummary?) async throws {
        if let container, container.state == .running {
            try await awaitHealthy(container.id)
            return
        }
        if let container {
            if container.state.hasEnded {
                let state = try await context.docker.inspectContainer(container.id).state
                let decision = restarts.failed(.exited, now: .now)
                await report(.exited, containerID: container.id, containerError: state.exitDescription, throttled: throttle)
                // Crash-looping: this restart waits for its back-off.
                try await wait(decision, lookAgain: false)
            }
            try await start(container.id)
            return
        }
        guard let job = try await job() else {
            await report(.failed, containerError: "job \(jobID) is not in ZooKeeper")
            return
        }
        let violations = context.policy.violations(of: job)
        guard violations.isEmpty else {
            // Nothing of it is created: FAILED until the job changes.
            let decision = restarts.failed(.refusedByPolicy, now: .now)
            context.logger.error("the host's policy refuses the task", metadata: ["job.id": "\(jobID)", "reasons": "\(violations)"])
            await report(.failed, containerError: "refused by the host's policy: " + violations.joined(separator: "; "),
                         throttled: decision.reason)
            return
        }
        let secrets: [String: String]
        switch context.secrets.resolve(job.secrets ?? [:]) {
        case .success(let values):
            secrets = values
            restarts.succeeded(.secretMissing)
        case .failure(let refusal):
            // Tried again after a back-off: the operator may put the file in place.
            let decision = restarts.failed(.secretMissing, now: .now)
            context.logger.error("a secret of the task is missing", metadata: ["job.id": "\(jobID)", "reason": "\(refusal)"])
            await report(.failed, containerError: refusal.description, throttled: decision.reason)
            try await wait(decision)
            return
        }
        guard try await pullIfMissing(job.image) else { return }
        guard let hostPorts = await context.ports.allocate(job, for: jobID) else {
            let decision = restarts.failed(.portInUse, now: .now)
            await report(.failed, containerError: "no free host port in \(await context.ports.range)", throttled: decision.reason)
            try await wait(decision)
            return
        }
        await report(.creating)
        let id: String
        do {
            id = try await context.docker.createContainer(name: containerName(job),
                                                          spec: spec(for: job, hostPorts: hostPorts, secrets: secrets))
        } catch {
            await context.ports.release(jobID)
            throw error
        }
        context.logger.info("container created", metadata: ["job.id": "\(jobID)", "container.id": "\(id)"])
        try await start(id)
    }

    private func start(_ id: String) async throws {
        await report(.starting, containerID: id, throttled: throttle)
        restarts.started(now: .now)
        do {
            try await context.docker.startContainer(id)
        } catch let error as DockerError where error.code == .portInUse {
            // Another process holds a host port: a new container gets new dynamic ones; a static
            // one is tried again after a back-off.
            try? await context.docker.removeContainer(id, force: true)
            let decision = restarts.failed(.portInUse, now: .now)
            await report(.failed, containerID: id, containerError: error.message, throttled: decision.reason)
            try await wait(decision)
            return
        }
        restarts.succeeded(.portInUse)
        try await awaitHealthy(id)
    }

    /// RUNNING once the job's health check passes (at once without one); HEALTHCHECKING while
    /// it fails, checked again after the tracker's delay; EXITED if it dies.
    private func awaitHealthy(_ id: String) async throws {
        defer { restarts.succeeded(.unhealthy) }
        while true {
            let details = try await context.docker.inspectContainer(id)
            guard details.state.running else {
                healthyContainer = nil
                await report(.exited, containerID: id, containerError: details.state.exitDescription, throttled: throttle)
                return
            }
            guard healthyContainer != id, let job = try await job(), let check = job.healthCheck else {
                healthyContainer = id
                await report(.running, containerID: id, throttled: throttle)
                return
            }
            let hostPorts = PortAllocator.decode(details.config.labels[PortAllocator.label])
            guard let failure = await HealthProbe(docker: context.docker).check(check, container: id, hostPorts: hostPorts, job: job) else {
                healthyContainer = id
                await report(.running, containerID: id, throttled: throttle)
                return
            }
            await report(.healthChecking, containerID: id, containerError: failure)
            try await wait(restarts.failed(.unhealthy, now: .now), lookAgain: false)
        }
    }

    /// Pulls the image when the host lacks it: false (and FAILED, throttled) when that failed;
    /// the next attempt waits the tracker's back-off.
    private func pullIfMissing(_ image: String) async throws -> Bool {
        guard try await !context.docker.imageExists(image) else { return true }
        await report(.pullingImage)
        let logger = context.logger
        let jobID = self.jobID
        do {
            try await context.docker.pullImage(image, credentials: context.registries.credentials(for: image)) { progress in
                if let status = progress.status, progress.id == nil || status == "Pull complete" {
                    logger.debug("pulling \(image): \(status)", metadata: ["job.id": "\(jobID)"])
                }
            }
            restarts.succeeded(.pullFailed(missing: false))
            context.logger.info("image pulled", metadata: ["job.id": "\(jobID)", "image": "\(image)"])
            return true
        } catch let error as DockerError where error.code != .engineUnreachable {
            // The registry does not have it, or will not say: IMAGE_MISSING; anything else is a failed pull.
            let decision = restarts.failed(.pullFailed(missing: error.code == .imageNotFound), now: .now)
            await report(.failed, containerError: error.message, throttled: decision.reason)
            try await wait(decision)
            return false
        }
    }

    // MARK: Stopping

    /// Graceful stop with the job's grace period and stop timeout (as its container's labels
    /// record them, else as the job says).
    private func stop(_ container: ContainerSummary?) async throws {
        healthyContainer = nil
        guard let container, container.state.isAlive else { return }
        await report(.stopping, containerID: container.id)
        let policy: StopPolicy
        if let recorded = StopPolicy(labels: container.labels) {
            policy = recorded
        } else {
            policy = (try? await job()).map(StopPolicy.init) ?? StopPolicy()
        }
        try await context.stopContainer(container.id, policy)
        context.logger.info("container stopped", metadata: ["job.id": "\(jobID)", "container.id": "\(container.id)"])
    }

    // MARK: Helpers

    private var throttle: TaskStatus.Throttle? {
        restarts.reason(now: .now)
    }

    /// Waits as the tracker decided, then (`lookAgain`) has the supervisor look once more.
    private func wait(_ decision: RestartTracker.Decision, lookAgain: Bool = true) async throws {
        guard case .wait(let delay) = decision.action else { return }
        try await Task.sleep(for: delay)
        if lookAgain { self.lookAgain = true }
    }

    private func report(_ state: TaskStatus.State, containerID: String? = nil, containerError: String? = nil,
                        throttled: TaskStatus.Throttle? = nil) async {
        await context.reporter.report(TaskStatus(jobID: jobID, goal: stepGoal, state: state, containerID: containerID,
                                                 containerError: containerError, throttled: throttled))
    }

    /// The job, read once: jobs are immutable.
    private func job() async throws -> Job? {
        if let job { return job }
        job = try await context.store.job(jobID)
        return job
    }

    /// The container a task runs: the job's settings with its secrets' values, its ports
    /// published on loopback and named in the environment, and the labels that tie it to the task.
    func spec(for job: Job, hostPorts: [String: Int], secrets: [String: String] = [:]) -> ContainerSpec {
        let environment = (job.env ?? [:]).merging(secrets) { _, secret in secret }
            .merging(PortAllocator.environment(hostPorts)) { _, port in port }
        var labels = job.labels ?? [:]
        labels[HostContext.hostLabel] = context.host
        labels[HostContext.jobLabel] = jobID.description
        labels[HostContext.deploymentLabel] = task.deployment
        if !hostPorts.isEmpty { labels[PortAllocator.label] = PortAllocator.encode(hostPorts) }
        labels.merge(StopPolicy(job: job).labels) { _, recorded in recorded }
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
        let raw = "helios-\(context.host)-\(job.name)-\(job.version)-\(job.id.hash.prefix(8))"
        return String(raw.map { $0.isLetter || $0.isNumber || "_.-".contains($0) ? $0 : "_" })
    }
}

/// How a task's container stops: the job's grace period, then `docker stop` with its stop
/// timeout, then a kill. Recorded in the container's labels, so a container whose job is gone
/// (an orphan the sweep reaps) stops as gently as its job asked.
struct StopPolicy: Equatable {
    static let graceLabel = "helios.grace-period-ms"
    static let timeoutLabel = "helios.stop-timeout-ms"

    /// Milliseconds.
    var gracePeriod: Int64 = 0
    var stopTimeout: Int64 = Job.defaultStopTimeout

    init() {}

    init(job: Job) {
        gracePeriod = job.gracePeriod ?? 0
        stopTimeout = job.effectiveStopTimeout
    }

    /// nil when the container records no stop timeout (made by an older agent, or foreign).
    init?(labels: [String: String]) {
        guard let timeout = labels[Self.timeoutLabel].flatMap(Int64.init), timeout >= 0 else { return nil }
        stopTimeout = timeout
        gracePeriod = labels[Self.graceLabel].flatMap(Int64.init).map { max(0, $0) } ?? 0
    }

    var labels: [String: String] {
        [Self.graceLabel: "\(gracePeriod)", Self.timeoutLabel: "\(stopTimeout)"]
    }
}

extension HostContext {
    /// Stops a running container as `policy` says; one already gone is stopped.
    func stopContainer(_ id: String, _ policy: StopPolicy) async throws {
        if policy.gracePeriod > 0 { try await Task.sleep(for: .milliseconds(policy.gracePeriod)) }
        do {
            try await docker.stopContainer(id, timeout: .milliseconds(policy.stopTimeout))
        } catch let error as DockerError where error.code == .notFound {
            return
        } catch let error as DockerError {
            logger.warning("docker stop failed; killing", metadata: ["container.id": "\(id)", "error": "\(error)"])
        }
        do {
            if try await docker.inspectContainer(id).state.running { try await docker.killContainer(id) }
        } catch let error as DockerError where error.code == .notFound {
        }
    }
}
