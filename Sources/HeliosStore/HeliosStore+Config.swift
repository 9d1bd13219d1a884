import Foundation
import HeliosModel
import ZooKeeper

/// The cluster as read, with what a plan against it must carry.
public struct ConfigSnapshot: Sendable {
    /// Configuration, hosts and the check index.
    public var state: ClusterState
    /// The version of `/config/version`: a transaction applies only while it is unchanged.
    public var checkIndex: Int32 { state.checkIndex ?? 0 }
    /// Hosts whose `/config/hosts/<host>/jobs` node exists.
    public var hostDirectories: Set<String>
    /// The master's sync record, and the version of its node (-1: there is none): it is
    /// written with a check of that version, so two writers never lose each other's record.
    public var syncRecord: SyncRecord?
    public var syncRecordVersion: Int32
    /// True for a snapshot this master derived from its own last write rather than read: it holds
    /// the configuration exactly while the check index is still the one it wrote (the apply's
    /// check says so), but hosts and agents' reports may have moved since.
    public var derived = false

    public var config: ClusterConfig { state.config }
    /// Each deployment's rollout, as the leader last wrote it.
    public var rollouts: [String: RolloutStatus] { state.rollouts }

    public init(state: ClusterState, hostDirectories: Set<String>, syncRecord: SyncRecord? = nil,
                syncRecordVersion: Int32 = -1) {
        self.state = state
        self.hostDirectories = hostDirectories
        self.syncRecord = syncRecord
        self.syncRecordVersion = syncRecordVersion
    }
}

extension HeliosStore {
    /// Reads everything under `/config` and what agents report of their hosts and tasks, as of one
    /// check index: a plan applied meanwhile makes it read again, and a committed journal is
    /// finished first, so the snapshot never holds half a plan. Reads are pipelined.
    public func readCluster() async throws -> ConfigSnapshot {
        countClusterRead()
        while true {
            let checkIndex = try await session.get(Paths.configVersion).stat.version
            try await finishJournals(checkIndex: checkIndex)
            var config = ClusterConfig()
            let jobIDs = try await children(Paths.jobs).compactMap { JobID($0) }
            for (id, job) in zip(jobIDs, try await decodeAll(Job.self, at: jobIDs.map { Paths.job($0) })) {
                config.jobs[id] = job
            }
            let names = try await children(Paths.deployments)
            for (name, deployment) in zip(names, try await decodeAll(Deployment.self, at: names.map { Paths.deployment($0) })) {
                config.deployments[name] = deployment
            }
            let hostDirectories = try await children(Paths.configHosts)
            let tasks = try await concurrently(hostDirectories, window: 64) { try await self.storedTasks(of: $0) }
            for (host, tasks) in zip(hostDirectories, tasks) where !tasks.isEmpty { config.tasks[host] = tasks }
            // Watched: a host registering, going UP or DOWN, or changing labels is a `hostsChanged` event.
            let hostNames = try await children(Paths.statusHosts, watch: true)
            let hosts = try await concurrently(hostNames, window: 64) { try await self.hostState($0) }
            let statuses = try await concurrently(hostNames, window: 64) { try await self.taskStatuses(host: $0) }
            let (record, recordVersion) = try await versionedSyncRecord()
            let rollouts = try await rolloutStatuses()
            guard try await session.get(Paths.configVersion).stat.version == checkIndex else { continue }
            return ConfigSnapshot(
                state: ClusterState(config: config, hosts: Dictionary(uniqueKeysWithValues: zip(hostNames, hosts)),
                                    checkIndex: checkIndex, revision: record?.lastAppliedRevision,
                                    statuses: Dictionary(uniqueKeysWithValues: zip(hostNames, statuses)).filter { !$0.value.isEmpty },
                                    rollouts: rollouts),
                hostDirectories: Set(hostDirectories), syncRecord: record, syncRecordVersion: recordVersion)
        }
    }

    /// The check index now: one read. Every configuration change (rollout statuses included) moves it.
    public func checkIndex() async throws -> Int32 {
        try await session.get(Paths.configVersion).stat.version
    }

    /// A host as its agent registered it (watched, like `readCluster`'s reads).
    func hostState(_ host: String) async throws -> HostState {
        HostState(labels: try await decode([String: String].self, at: Paths.hostLabels(host), watch: true) ?? [:],
                  up: try await session.exists(Paths.hostUp(host), watch: true) != nil)
    }

    /// `snapshot` with what each host's agent reports now of the one task asked for: whether the
    /// host is UP and that task's status. Two reads a host instead of the whole cluster, for a
    /// leader whose snapshot of the configuration is still current (labels, and so selectors,
    /// come with its periodic full read).
    public func refreshing(_ tasks: [(host: String, job: JobID)], in snapshot: ConfigSnapshot) async throws -> ConfigSnapshot {
        var snapshot = snapshot
        let ups = try await concurrently(tasks, window: 256) { try await self.session.exists(Paths.hostUp($0.host)) != nil }
        let statuses = try await concurrently(tasks, window: 256) { try await self.taskStatus($0.job, host: $0.host) }
        for ((host, job), (up, status)) in zip(tasks, zip(ups, statuses)) {
            if snapshot.state.hosts[host] != nil { snapshot.state.hosts[host]?.up = up } else if up {
                snapshot.state.hosts[host] = HostState(up: true)
            }
            snapshot.state.statuses[host, default: [:]][job] = status
        }
        return snapshot
    }

    /// Applies `plan` whole, only if the configuration is still as in `snapshot`: in one
    /// transaction, or through the journal when it is larger than one transaction may be.
    /// `record`, when given, is written in the same transaction, checked against the version
    /// the snapshot read. Returns the new check index. Throws `HeliosStoreError.stale` when
    /// another writer came first, `.refused` for a plan with errors: then nothing was written.
    @discardableResult
    public func apply(_ plan: Plan, to snapshot: ConfigSnapshot, record: SyncRecord? = nil) async throws -> Int32 {
        let checkIndex = try await write(plan, to: snapshot, record: record)
        // A removed job takes its task history with it (after the change: history is no configuration).
        if plan.changes.contains(where: { if case .removeJob(_, afterRollout: false) = $0 { true } else { false } }) {
            var jobs = Set(snapshot.config.jobs.keys)
            for change in plan.changes {
                switch change {
                case .createJob(let job, _): jobs.insert(job.id)
                case .removeJob(let id, afterRollout: false): jobs.remove(id)
                default: continue
                }
            }
            do {
                try await pruneHistory(keeping: jobs)
            } catch {
                // Tried again at the next removal; the change itself is applied.
            }
        }
        return checkIndex
    }

    private func write(_ plan: Plan, to snapshot: ConfigSnapshot, record: SyncRecord?) async throws -> Int32 {
        guard plan.errors.isEmpty else { throw HeliosStoreError.refused(plan.errors) }
        let closing = record.map { [Self.write($0, over: snapshot.syncRecordVersion)] } ?? []
        // Writes are encoded one by one into transaction-sized chunks; a plan of more than one
        // goes through the journal.
        var batcher = TransactionBatcher(budget: Self.transactionBudget)
        var chunks: [[TransactionOperation]] = []
        var oversized: [String] = []
        Self.forEachWrite(of: plan, hostDirectories: snapshot.hostDirectories, rollouts: Set(snapshot.rollouts.keys)) { write in
            if Self.weight(write) > Self.transactionBudget { oversized.append(write.path) }
            if let full = batcher.add(write) { chunks.append(full) }
        }
        // ZooKeeper closes the connection of a request over 1 MB: refuse what cannot be written, whole.
        guard oversized.isEmpty else {
            throw HeliosStoreError.refused(oversized.map { "\($0) would hold more than \(Self.transactionBudget / 1024) KiB" })
        }
        if !chunks.isEmpty {
            let journal = await JournalWriter(store: self, checkIndex: snapshot.checkIndex)
            for chunk in chunks + [batcher.batch] { await journal.append(chunk) }
            return try await journal.commit(with: closing)
        }
        do {
            try await session.transaction([.check(path: Paths.configVersion, version: snapshot.checkIndex)]
                + batcher.batch + closing + [Self.bump(from: snapshot.checkIndex)])
            return snapshot.checkIndex + 1
        } catch let error as TransactionError where error.index == 0 && error.underlying.code == .badVersion {
            throw HeliosStoreError.stale(expected: snapshot.checkIndex)
        } catch let error as TransactionError where error.index == batcher.batch.count + 1 && !closing.isEmpty
                    && [.badVersion, .nodeExists].contains(error.underlying.code) {
            throw HeliosStoreError.stale(expected: snapshot.checkIndex) // the sync record moved meanwhile
        }
    }

    /// The ZooKeeper operations that apply `plan`, in order, between the check of the check
    /// index and its bump. Pure: `helios apply --dry-run` prints them, and `apply` writes them.
    public static func operations(for plan: Plan, checkIndex: Int32, hostDirectories: Set<String>,
                                  rollouts: Set<String> = []) -> [TransactionOperation] {
        var operations: [TransactionOperation] = [.check(path: Paths.configVersion, version: checkIndex)]
        forEachWrite(of: plan, hostDirectories: hostDirectories, rollouts: rollouts) { operations.append($0) }
        operations.append(bump(from: checkIndex))
        return operations
    }

    /// The operations that apply `plan` to `snapshot`: what `apply` writes.
    public static func operations(for plan: Plan, to snapshot: ConfigSnapshot) -> [TransactionOperation] {
        operations(for: plan, checkIndex: snapshot.checkIndex, hostDirectories: snapshot.hostDirectories,
                   rollouts: Set(snapshot.rollouts.keys))
    }

    /// One operation as `helios apply --dry-run` prints it.
    public static func describe(_ operation: TransactionOperation) -> String {
        switch operation {
        case .check(let path, let version): "check   \(path) is at version \(version)"
        case .create(let path, let data, _): "create  \(path)" + (data.isEmpty ? "" : "  (\(data.count) bytes)")
        case .set(let path, let data, let version):
            "set     \(path)  (\(data.count) bytes\(version.map { ", if at version \($0)" } ?? ""))"
        case .delete(let path, _): "delete  \(path)"
        }
    }

    /// The check index's bump that ends every configuration change.
    static func bump(from checkIndex: Int32) -> TransactionOperation {
        .set(path: Paths.configVersion, data: Data("\(checkIndex + 1)".utf8), version: checkIndex)
    }

    /// The writes that apply `plan`, in order, handed to `body` one by one as they are encoded:
    /// creates and updates first, then the tasks, then removals (children before parents).
    static func forEachWrite(of plan: Plan, hostDirectories: Set<String>, rollouts: Set<String> = [],
                             _ body: (TransactionOperation) -> Void) {
        var removals: [TransactionOperation] = []
        for change in plan.changes {
            switch change {
            case .createJob(let job, _):
                let (json, id) = job.canonicalForm
                body(.create(path: Paths.job(id), data: json, mode: .persistent))
                body(.create(path: Paths.jobHosts(id), data: Data(), mode: .persistent))
            case .createDeployment(let deployment, _):
                body(.create(path: Paths.deployment(deployment.name), data: CanonicalJSON.encode(deployment), mode: .persistent))
            case .updateDeployment(_, let deployment, _, _):
                body(.set(path: Paths.deployment(deployment.name), data: CanonicalJSON.encode(deployment), version: nil))
            case .removeDeployment(let deployment, _):
                removals.append(.delete(path: Paths.deployment(deployment.name), version: nil))
                if rollouts.contains(deployment.name) {
                    removals.append(.delete(path: Paths.rollout(deployment.name), version: nil))
                }
            case .removeJob(_, afterRollout: true):
                continue // the leader removes it when the rollout that needs it is done
            case .removeJob(let id, afterRollout: false):
                removals.append(.delete(path: Paths.jobHosts(id), version: nil))
                removals.append(.delete(path: Paths.job(id), version: nil))
            }
        }
        var hostDirectories = hostDirectories
        for task in plan.tasks {
            switch task {
            case .undeploy(let host, let id):
                body(.delete(path: Paths.hostTask(host, id), version: nil))
                body(.delete(path: Paths.jobHost(id, host), version: nil))
            case .deploy(let host, let task):
                if hostDirectories.insert(host).inserted {
                    body(.create(path: Paths.configHost(host), data: Data(), mode: .persistent))
                    body(.create(path: Paths.hostTasks(host), data: Data(), mode: .persistent))
                }
                body(.create(path: Paths.hostTask(host, task.jobID), data: CanonicalJSON.encode(task), mode: .persistent))
                body(.create(path: Paths.jobHost(task.jobID, host), data: Data(), mode: .persistent))
            case .update(let host, let task):
                body(.set(path: Paths.hostTask(host, task.jobID), data: CanonicalJSON.encode(task), version: nil))
            }
        }
        for rollout in plan.rollouts {
            let data = CanonicalJSON.encode(rollout)
            body(rollouts.contains(rollout.deployment)
                 ? .set(path: Paths.rollout(rollout.deployment), data: data, version: nil)
                 : .create(path: Paths.rollout(rollout.deployment), data: data, mode: .persistent))
        }
        removals.forEach(body)
    }

    /// The tasks assigned to `host`; `watch` arms watches on the list and on every task.
    /// Before the first task, the list does not exist: the watch then waits for its creation.
    /// While a committed plan is replayed from the journal, throws `journalInProgress` (with
    /// `watch`, its end is a `journalFinished` event): an agent never acts on half a plan.
    public func tasks(of host: String, watch: Bool = false) async throws -> [JobID: HostTask] {
        if let entry = try await committedJournal(watch: watch) { throw HeliosStoreError.journalInProgress(entry: entry) }
        return try await storedTasks(of: host, watch: watch)
    }

    /// The task nodes of `host` as they are now (`readCluster` checks the check index around them).
    func storedTasks(of host: String, watch: Bool = false) async throws -> [JobID: HostTask] {
        let path = Paths.hostTasks(host)
        var names: [String]
        while true {
            do {
                names = try await session.children(path, watch: watch)
                break
            } catch let error as ZooKeeperError where error.code == .noNode {
                guard watch else { return [:] }
                if try await session.exists(path, watch: true) == nil { return [:] }
                // Created in between: read it.
            }
        }
        let ids = names.compactMap { JobID($0) }
        let tasks = try await decodeAll(HostTask.self, at: ids.map { Paths.hostTask(host, $0) }, watch: watch)
        var result: [JobID: HostTask] = [:]
        for (id, task) in zip(ids, tasks) { result[id] = task }
        return result
    }

    /// A job's configuration, or nil when it is not (or no longer) declared.
    public func job(_ id: JobID) async throws -> Job? {
        try await decode(Job.self, at: Paths.job(id))
    }
}
