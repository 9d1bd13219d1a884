import DockerEngine
import Foundation
import Git
import HeliosManifests
import HeliosModel
import HeliosPlanner
import HeliosStore
import Synchronization
import ZooKeeper

/// What a check found wrong; the run must end with none.
struct Violation: CustomStringConvertible {
    let invariant: String
    let detail: String
    var description: String { "\(invariant): \(detail)" }
}

/// Samples the cluster all the time, not only at checkpoints: two containers running for one
/// task, or an agent registration owned by another than the host's agent, would be gone again
/// by the next checkpoint.
final class Monitor: Sendable {
    private let found = Mutex<[String: Violation]>([:])
    private let samples = Atomic(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    var violations: [Violation] { found.withLock { Array($0.values) } }
    var sampleCount: Int { samples.load(ordering: .relaxed) }

    func start(docker: DockerClient, zooKeeper: String, hosts: [String], agentIDs: @escaping @Sendable (String) -> String?) {
        task.withLock {
            $0 = Task {
                let session = try? await ZooKeeperSession.connect(servers: zooKeeper, chroot: ChaosCluster.chroot)
                while !Task.isCancelled {
                    await self.sample(docker: docker, session: session, hosts: hosts, agentIDs: agentIDs)
                    try? await Task.sleep(for: .milliseconds(250))
                }
                await session?.close()
            }
        }
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }

    private func sample(docker: DockerClient, session: ZooKeeperSession?, hosts: [String],
                        agentIDs: @Sendable (String) -> String?) async {
        // A dockerd being restarted, a quorum lost: no sample, not a violation.
        if let running = try? await docker.listContainers(all: false, labels: ["helios.host"]) {
            samples.add(1, ordering: .relaxed)
            let byTask = Dictionary(grouping: running) { "\($0.labels["helios.job"] ?? "?") on \($0.labels["helios.host"] ?? "?")" }
            for (task, containers) in byTask where containers.count > 1 {
                record("never two containers for one task", "\(containers.count) ran for \(task): \(containers.map(\.name))")
            }
        }
        for host in hosts {
            guard let session, let up = try? await session.get("/status/hosts/\(host)/up"),
                  let expected = agentIDs(host) else { continue }
            let holder = String(decoding: up.data, as: UTF8.self)
            if holder != expected {
                record("never two agents acting for one host", "\(host) is registered by agent \(holder), not its own \(expected)")
            }
        }
    }

    private func record(_ invariant: String, _ detail: String) {
        found.withLock { found in
            if found[detail] == nil { found[detail] = Violation(invariant: invariant, detail: detail) }
        }
    }
}

/// A picture of the cluster once it has settled after a fault, and the checks made on it.
struct Checkpoint {
    /// (host, job) → the container running it, and when it started.
    var containers: [String: (id: String, startedAt: String)]
}

struct Checker {
    let store: HeliosStore
    let docker: DockerClient
    let repository: GitRepository
    let hosts: [String]

    /// Waits until the cluster has applied `stream`'s last valid commit, every rollout has ended
    /// and every task runs in exactly one container; nil and what is missing when it did not
    /// within `timeout`.
    func settle(_ stream: ManifestStream, timeout: Duration) async -> (ConfigSnapshot?, missing: String) {
        let deadline = ContinuousClock.now + timeout
        var missing = "nothing read yet"
        while ContinuousClock.now < deadline {
            do {
                let snapshot = try await store.readCluster()
                if let gap = try await gap(snapshot, stream) {
                    missing = gap
                } else {
                    return (snapshot, "")
                }
            } catch {
                missing = "ZooKeeper: \(error)"
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (nil, missing)
    }

    private func gap(_ snapshot: ConfigSnapshot, _ stream: ManifestStream) async throws -> String? {
        let record = snapshot.syncRecord
        if record?.lastAppliedRevision != stream.lastValidCommit {
            return "applied \(record?.lastAppliedRevision?.prefix(8) ?? "nothing"), not \(stream.lastValidCommit?.prefix(8) ?? "?")"
        }
        if record?.lastAttemptedRevision != stream.head {
            return "attempted \(record?.lastAttemptedRevision?.prefix(8) ?? "nothing"), not the head \(stream.head?.prefix(8) ?? "?")"
        }
        if let rolling = snapshot.rollouts.values.first(where: { $0.state == .rollingOut }) {
            return "rollout of \(rolling.deployment) under way (batch \(rolling.batch + 1) of \(rolling.batches.count))"
        }
        for host in hosts where snapshot.state.hosts[host]?.up != true { return "\(host) is not UP" }
        let running = try await docker.listContainers(all: false, labels: ["helios.host"])
        let byTask = Dictionary(grouping: running) { TaskKey(host: $0.labels["helios.host"] ?? "", job: $0.labels["helios.job"] ?? "") }
        var wanted: Set<TaskKey> = []
        for (host, tasks) in snapshot.config.tasks where hosts.contains(host) {
            for (id, task) in tasks where task.goal == .start {
                let key = TaskKey(host: host, job: id.description)
                wanted.insert(key)
                if byTask[key]?.count != 1 { return "\(id.nameAndVersion) on \(host): \(byTask[key]?.count ?? 0) containers running" }
                if snapshot.state.statuses[host]?[id]?.state != .running { return "\(id.nameAndVersion) on \(host) is not RUNNING yet" }
            }
        }
        if let extra = byTask.keys.first(where: { !wanted.contains($0) && hosts.contains($0.host) }) {
            return "a container of \(extra.job) still runs on \(extra.host)"
        }
        return nil
    }

    /// The invariants of a settled cluster; `previous`: the checkpoint before, whose unchanged
    /// tasks must run in the same containers (not even restarted unless dockerd was).
    func check(_ snapshot: ConfigSnapshot, _ stream: ManifestStream, previous: Checkpoint?,
               dockerRestarted: Bool) async throws -> (Checkpoint, [Violation]) {
        var violations: [Violation] = []
        // The configuration is the last applied commit's, whole: planning that commit against it changes nothing.
        let commit = try repository.resolve(stream.lastValidCommit ?? "HEAD")
        switch ManifestLoader.load(try ManifestSource.commit(commit, in: repository)) {
        case .failure(let error):
            violations.append(Violation(invariant: "the configuration equals the last applied commit",
                                        detail: "the commit itself does not load: \(error)"))
        case .success(let desired):
            let held = Planner.holdingFailedRollouts(desired: desired, actual: snapshot.state)
            let plan = Planner.plan(desired: held.desired, actual: held.actual, base: PlanBase(kind: .cluster),
                                    target: "check", now: Date())
            if !plan.isEmpty {
                let summary = plan.summary
                violations.append(Violation(invariant: "the configuration equals the last applied commit",
                                            detail: "planning \(commit.description.prefix(8)) against it still has \(summary.add) to add, "
                                                + "\(summary.change) to change, \(summary.remove) to remove, \(plan.tasks.count) task writes"))
            }
        }
        for rollout in snapshot.rollouts.values where ![.done, .rolledBack, .superseded].contains(rollout.state) {
            violations.append(Violation(invariant: "every rollout ends done, rolled back or superseded",
                                        detail: "\(rollout.deployment) ended \(rollout.state.rawValue): \(rollout.error ?? "")"))
        }
        var checkpoint = Checkpoint(containers: [:])
        for container in try await docker.listContainers(all: false, labels: ["helios.host"]) {
            guard let host = container.labels["helios.host"], hosts.contains(host), let job = container.labels["helios.job"] else { continue }
            let startedAt = try await docker.inspectContainer(container.id).state.startedAt
            checkpoint.containers["\(job) on \(host)"] = (container.id, startedAt)
        }
        for (task, now) in checkpoint.containers {
            guard let before = previous?.containers[task] else { continue }
            if before.id != now.id {
                violations.append(Violation(invariant: "containers of unchanged tasks are never restarted",
                                            detail: "\(task) runs in a new container"))
            } else if before.startedAt != now.startedAt && !dockerRestarted {
                violations.append(Violation(invariant: "containers of unchanged tasks are never restarted",
                                            detail: "\(task) was restarted (started \(before.startedAt), now \(now.startedAt))"))
            }
        }
        return (checkpoint, violations)
    }
}

struct TaskKey: Hashable {
    let host: String
    let job: String
}
