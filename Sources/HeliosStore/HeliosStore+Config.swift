import Foundation
import HeliosModel
import ZooKeeper

/// The configuration as read, with the check index a plan against it must carry.
public struct ConfigSnapshot: Sendable {
    public var config: ClusterConfig
    /// The version of `/config/version`: a transaction applies only while it is unchanged.
    public var checkIndex: Int32
    /// Hosts whose `/config/hosts/<host>/jobs` node exists.
    var hostDirectories: Set<String>
}

extension HeliosStore {
    /// Reads everything under `/config`.
    public func readConfig() async throws -> ConfigSnapshot {
        let checkIndex = try await session.get(Paths.configVersion).stat.version
        var config = ClusterConfig()
        for name in try await children(Paths.jobs) {
            guard let id = JobID(name) else { continue }
            if let job = try await decode(Job.self, at: Paths.job(id)) { config.jobs[id] = job }
        }
        for name in try await children(Paths.deployments) {
            if let deployment = try await decode(Deployment.self, at: Paths.deployment(name)) {
                config.deployments[name] = deployment
            }
        }
        var hostDirectories: Set<String> = []
        for host in try await children(Paths.configHosts) {
            hostDirectories.insert(host)
            let tasks = try await self.tasks(of: host)
            if !tasks.isEmpty { config.tasks[host] = tasks }
        }
        return ConfigSnapshot(config: config, checkIndex: checkIndex, hostDirectories: hostDirectories)
    }

    /// Applies `plan` in one transaction, only if the configuration is still as in `snapshot`.
    /// Returns the new check index. Throws `HeliosStoreError.stale` when another writer came first:
    /// then nothing was written.
    @discardableResult
    public func apply(_ plan: Plan, to snapshot: ConfigSnapshot) async throws -> Int32 {
        var operations: [TransactionOperation] = [.check(path: Paths.configVersion, version: snapshot.checkIndex)]
        var hostDirectories = snapshot.hostDirectories
        for action in plan.actions {
            switch action {
            case .createJob(let job):
                operations.append(.create(path: Paths.job(job.id), data: CanonicalJSON.encode(job), mode: .persistent))
                operations.append(.create(path: Paths.jobHosts(job.id), data: Data(), mode: .persistent))
            case .removeJob(let id):
                operations.append(.delete(path: Paths.jobHosts(id), version: nil))
                operations.append(.delete(path: Paths.job(id), version: nil))
            case .createDeployment(let deployment):
                operations.append(.create(path: Paths.deployment(deployment.name),
                                          data: CanonicalJSON.encode(deployment), mode: .persistent))
            case .updateDeployment(_, let deployment):
                operations.append(.set(path: Paths.deployment(deployment.name),
                                       data: CanonicalJSON.encode(deployment), version: nil))
            case .removeDeployment(let name):
                operations.append(.delete(path: Paths.deployment(name), version: nil))
            case .deployTask(let host, let task):
                if hostDirectories.insert(host).inserted {
                    operations.append(.create(path: Paths.configHost(host), data: Data(), mode: .persistent))
                    operations.append(.create(path: Paths.hostTasks(host), data: Data(), mode: .persistent))
                }
                operations.append(.create(path: Paths.hostTask(host, task.jobID),
                                          data: CanonicalJSON.encode(task), mode: .persistent))
                operations.append(.create(path: Paths.jobHost(task.jobID, host), data: Data(), mode: .persistent))
            case .updateTask(let host, let task):
                operations.append(.set(path: Paths.hostTask(host, task.jobID), data: CanonicalJSON.encode(task), version: nil))
            case .undeployTask(let host, let id):
                operations.append(.delete(path: Paths.hostTask(host, id), version: nil))
                operations.append(.delete(path: Paths.jobHost(id, host), version: nil))
            }
        }
        operations.append(.set(path: Paths.configVersion, data: Data("\(snapshot.checkIndex + 1)".utf8),
                               version: snapshot.checkIndex))
        do {
            let results = try await session.transaction(operations)
            guard case .set(let stat) = results.last else { return snapshot.checkIndex + 1 }
            return stat.version
        } catch let error as TransactionError where error.index == 0 && error.underlying.code == .badVersion {
            throw HeliosStoreError.stale(expected: snapshot.checkIndex)
        }
    }

    /// The tasks assigned to `host`; `watch` arms watches on the list and on every task.
    public func tasks(of host: String, watch: Bool = false) async throws -> [JobID: HostTask] {
        var tasks: [JobID: HostTask] = [:]
        for name in try await children(Paths.hostTasks(host), watch: watch) {
            guard let id = JobID(name) else { continue }
            if let task = try await decode(HostTask.self, at: Paths.hostTask(host, id), watch: watch) {
                tasks[id] = task
            }
        }
        return tasks
    }

    /// A job's configuration, or nil when it is not (or no longer) declared.
    public func job(_ id: JobID) async throws -> Job? {
        try await decode(Job.self, at: Paths.job(id))
    }
}
