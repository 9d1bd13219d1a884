import Foundation
import Git
import HeliosManifests
import HeliosModel
import HeliosPlanner
import HeliosStore
import Logging

/// Turns commits into cluster configuration: fetch, read the manifests from the commit's
/// tree, plan against ZooKeeper, apply in one transaction, record the sync.
public actor GitSync {
    let repository: GitRepository
    let remote: String
    let branch: String
    /// The folder of the repository the manifests are in; empty: all of it.
    let subpath: String
    let credentials: GitCredentials?
    let store: HeliosStore
    let logger: Logger
    let metrics: MasterMetrics
    /// The last revision tried, applied or not: a failed one is not retried until a new commit.
    private var lastAttempt: ObjectID?
    /// The manifests of `loadedRevision`, the last valid revision read: a commit after it is
    /// read as a tree diff, so a one-file commit reads and parses one file.
    private var manifests = ManifestIndex()
    private var loadedRevision: ObjectID?

    public init(remote: String, branch: String, subpath: String = "", credentials: GitCredentials? = nil,
                mirrorPath: String, store: HeliosStore, logger: Logger, metrics: MasterMetrics = MasterMetrics()) throws {
        self.repository = try GitRepository.mirror(of: remote, at: mirrorPath)
        self.remote = remote
        self.branch = branch
        self.subpath = subpath
        self.credentials = credentials
        self.store = store
        self.logger = logger
        self.metrics = metrics
    }

    /// Fetches and, when the branch moved, applies its head. Returns the sync record written,
    /// or nil when there was nothing new.
    @discardableResult
    public func sync() async throws -> SyncRecord? {
        let fetchStart = ContinuousClock.now
        let head = try await repository.fetch(branch: branch, credentials: credentials)
        metrics.fetched(in: .now - fetchStart)
        guard head != lastAttempt else { return nil }
        let previous = try await store.syncRecord()
        // Tried already, by this master or one that led before: a failed commit waits for the
        // next, and a rollout in progress is the rollout controller's.
        guard previous?.lastAttempt != head.hex else {
            lastAttempt = head
            // A master that takes over learns the applied revision's manifests, to check drift against.
            if loadedRevision == nil, previous?.revision == head.hex,
               case .success = manifests.load(try ManifestSource.commit(head, in: repository, subpath: subpath)) {
                loadedRevision = head
            }
            return nil
        }
        lastAttempt = head
        let start = ContinuousClock.now
        var log = logger
        log[metadataKey: "git.revision"] = .string(head.short)

        let loaded = if let loadedRevision {
            manifests.apply(try ManifestSource.changes(from: loadedRevision, to: head, in: repository, subpath: subpath))
        } else {
            manifests.load(try ManifestSource.commit(head, in: repository, subpath: subpath))
        }
        let desired: DesiredState
        switch loaded {
        case .failure(let error):
            log.error("manifests invalid, nothing applied", metadata: ["diagnostics": "\(error.diagnostics.count)"])
            metrics.synced("failed", in: .now - start)
            return try await recordFailure(
                of: head, after: previous,
                summary: "revision \(head.short) has \(error.diagnostics.count) manifest error(s); nothing applied",
                diagnostics: error.diagnostics.map(\.description))
        case .success:
            loadedRevision = head
            desired = manifests.desired
        }

        // A concurrent writer moves the check index: re-read and re-plan, never patch.
        var attempts = 0
        while true {
            attempts += 1
            let snapshot = try await store.readConfig()
            let plan = Planner.plan(
                desired: desired, actual: snapshot.state,
                base: PlanBase(kind: .cluster, revision: snapshot.state.revision, branch: branch,
                               checkIndex: snapshot.checkIndex),
                target: head.hex)
            guard plan.errors.isEmpty else {
                log.error("plan refused, nothing applied", metadata: ["errors": "\(plan.errors)"])
                metrics.synced("failed", in: .now - start)
                return try await recordFailure(of: head, after: previous,
                                               summary: "revision \(head.short) refused; nothing applied",
                                               diagnostics: plan.errors)
            }
            do {
                // Deployments whose job changes roll out batch by batch: the first batch now.
                let staged = RolloutStaging.stage(plan, now: Date(), revision: head.hex)
                if !staged.isEmpty { try await store.apply(staged, to: snapshot) }
                let summary = plan.summary
                metrics.synced("synced", in: .now - start)
                metrics.planned(add: summary.add, change: summary.change, remove: summary.remove)
                log.info("revision applied", metadata: ["plan.add": "\(summary.add)", "plan.change": "\(summary.change)",
                                                        "plan.remove": "\(summary.remove)"])
                let record = SyncRecord(
                    repo: remote, branch: branch, revision: head.hex, lastAttempt: head.hex,
                    status: staged.rollouts.isEmpty ? .synced : .progressing,
                    appliedAt: Date().formatted(.iso8601),
                    summary: "applied \(head.short): \(summary.add) added, \(summary.change) changed, \(summary.remove) removed")
                try await store.writeSyncRecord(record)
                if !plan.isEmpty {
                    try await store.appendAppliedRevision(AppliedRevision(
                        revision: head.hex, appliedAt: record.appliedAt ?? "", summary: record.summary))
                }
                return record
            } catch HeliosStoreError.stale where attempts < 5 {
                log.info("configuration changed underneath, planning again")
            }
        }
    }

    /// Records that `head` was tried and not applied: the last applied revision stays as it was.
    private func recordFailure(of head: ObjectID, after previous: SyncRecord?, summary: String,
                               diagnostics: [String]) async throws -> SyncRecord {
        let record = SyncRecord(repo: remote, branch: branch, revision: previous?.revision, lastAttempt: head.hex,
                                status: .failed, appliedAt: previous?.appliedAt, summary: summary, diagnostics: diagnostics)
        try await store.writeSyncRecord(record)
        return record
    }

    /// Compares the cluster with the revision last applied: whatever differs was changed outside
    /// git (`helios apply --force`, a hand-edited node). It is reported (OUT_OF_SYNC, with the
    /// plan that would revert it) and, with `selfHeal` (the default), reverted. Not while a
    /// rollout runs, nor after a failed sync (a rolled-back deployment differs from git on purpose).
    @discardableResult
    public func checkDrift() async throws -> SyncRecord? {
        guard var record = try await store.syncRecord(), record.status == .synced || record.status == .outOfSync,
              let revision = loadedRevision, record.revision == revision.hex else { return nil }
        let snapshot = try await store.readConfig()
        guard !snapshot.rollouts.values.contains(where: { $0.state == .rollingOut }) else { return nil }
        let desired = manifests.desired
        let plan = Planner.plan(desired: desired, actual: snapshot.state,
                                base: PlanBase(kind: .cluster, revision: revision.hex, branch: branch,
                                               checkIndex: snapshot.checkIndex),
                                target: revision.hex)
        guard !plan.isEmpty else {
            guard record.status == .outOfSync else { return nil }
            record.status = .synced
            record.summary = "in sync with \(revision.short) again"
            record.diagnostics = []
            try await store.writeSyncRecord(record)
            return record
        }
        let changes = PlanRenderer.text(plan, color: false).split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("    ") }
        // Only tasks differ, no job or deployment: hosts joined or left a deployment's selector
        // (or went UP). Placement follows the hosts whatever selfHeal says.
        let placementOnly = plan.changes.allSatisfy { change in
            if case .updateDeployment(_, _, let fields, _) = change { fields.isEmpty } else { false }
        }
        if (desired.settings.selfHeal || placementOnly) && plan.errors.isEmpty {
            let staged = RolloutStaging.stage(plan, now: Date(), revision: revision.hex)
            try await store.apply(staged, to: snapshot)
            record.status = staged.rollouts.isEmpty ? .synced : .progressing
            if placementOnly {
                record.summary = "hosts joined or left: \(plan.tasks.count) task change(s) for \(revision.short)"
                logger.info("hosts joined or left", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
            } else {
                record.summary = "self-healed: \(plan.changes.count + plan.tasks.count) change(s) made outside git reverted to \(revision.short)"
                logger.warning("drift from git reverted", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
                metrics.drifted()
            }
        } else {
            record.status = .outOfSync
            record.summary = "drift: the cluster differs from \(revision.short) (selfHeal is off)"
            logger.warning("drift from git", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
            metrics.drifted()
        }
        record.diagnostics = changes
        try await store.writeSyncRecord(record)
        return record
    }

    /// Syncs on every wakeup (the poll timer, a webhook) until they end or the task is
    /// cancelled, and checks for drift when there was nothing new; a failed attempt is logged
    /// and tried again at the next.
    public func run(wakeups: AsyncStream<Void>) async {
        for await _ in wakeups {
            do {
                if try await sync() == nil { try await checkDrift() }
            } catch is CancellationError {
                return
            } catch {
                // Fetch or ZooKeeper failures are transient: try the same revision again.
                lastAttempt = nil
                logger.warning("sync failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
