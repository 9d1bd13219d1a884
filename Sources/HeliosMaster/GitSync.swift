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
    let fetchTimeout: Duration
    /// With `--require-signed-commits`: who may sign the commits applied.
    let verifier: CommitVerifier?
    let store: HeliosStore
    let logger: Logger
    let metrics: MasterMetrics
    /// The last revision tried, applied or not: a failed one is not retried until a new commit.
    private var lastAttempt: ObjectID?
    /// The manifests of `loadedRevision`, the last valid revision read: a commit after it is
    /// read as a tree diff, so a one-file commit reads and parses one file.
    private var manifests = ManifestIndex()
    private var loadedRevision: ObjectID?
    /// The check index the last drift check left the cluster at, and whether hosts changed since.
    private var driftCheckedAt: Int32?
    private var hostsMoved = false
    /// Expiries up to here have been acted on.
    private var expiriesHandledAt: Date?
    private var writer: ClusterWriter { ClusterWriter(store: store, logger: logger) }
    /// The cluster as this master's last write left it (the rollout controller's too): the next
    /// commit is planned against it (only what the commit changed) instead of a full read, while
    /// nobody else wrote meanwhile.
    private let picture: ClusterPicture
    /// The last fetch failed: the record says so until one works. Unknown at start (a master
    /// before this one may have recorded a failure): the first fetch that works looks.
    private var fetchFailing = true

    public init(remote: String, branch: String, subpath: String = "", credentials: GitCredentials? = nil,
                fetchTimeout: Duration = .seconds(60), verifier: CommitVerifier? = nil,
                mirrorPath: String, store: HeliosStore, logger: Logger, metrics: MasterMetrics = MasterMetrics(),
                picture: ClusterPicture = ClusterPicture()) throws {
        self.repository = try GitRepository.mirror(of: remote, at: mirrorPath)
        self.remote = remote
        self.branch = branch
        self.subpath = subpath
        self.credentials = credentials
        self.fetchTimeout = fetchTimeout
        self.verifier = verifier
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.picture = picture
    }

    /// Fetches and, when the branch moved, applies its head. Returns the sync record written,
    /// or nil when there was nothing new.
    @discardableResult
    public func sync(now: Date = Date()) async throws -> SyncRecord? {
        let fetchStart = ContinuousClock.now
        let head: ObjectID
        do {
            head = try await repository.fetch(branch: branch, credentials: credentials, timeout: fetchTimeout)
        } catch {
            // Visible in /v1/sync and the metrics; the cluster keeps what it runs, the next look tries again.
            metrics.fetchFailed()
            try? await recordFetch(failure: error)
            throw error
        }
        metrics.fetched(in: .now - fetchStart)
        try await recordFetch(failure: nil)
        guard head != lastAttempt else { return nil }
        let previous = try await store.syncRecord()
        // Tried already, by this master or one that led before: a failed commit waits for the
        // next, and a rollout in progress is the leader's rollout controller's.
        guard previous?.lastAttemptedRevision != head.hex else {
            lastAttempt = head
            // A master that takes over learns the applied revision's manifests, to check drift against.
            if loadedRevision == nil, previous?.lastAppliedRevision == head.hex,
               case .success = manifests.load(try ManifestSource.commit(head, in: repository, subpath: subpath)) {
                loadedRevision = head
            }
            return nil
        }
        lastAttempt = head
        let start = ContinuousClock.now
        var log = logger
        log[metadataKey: "git.revision"] = .string(head.short)

        var signer: String?
        if let verifier {
            switch await verifier.verify(try repository.signature(of: head)) {
            case .verified(let who):
                signer = who
            case .refused(let why):
                log.error("commit not verified, nothing applied", metadata: ["reason": "\(why)"])
                metrics.synced("failed", in: .now - start)
                return try await recordRefusal(of: head, reason: .unverifiedCommit,
                                               summary: "revision \(head.short) not applied: \(why)", diagnostics: [why])
            }
        }

        let loaded = if let loadedRevision {
            manifests.apply(try ManifestSource.changes(from: loadedRevision, to: head, in: repository, subpath: subpath))
        } else {
            manifests.load(try ManifestSource.commit(head, in: repository, subpath: subpath))
        }
        if case .failure(let error) = loaded {
            log.error("manifests invalid, nothing applied", metadata: ["diagnostics": "\(error.diagnostics.count)"])
            metrics.synced("failed", in: .now - start)
            return try await recordRefusal(of: head, reason: .invalidManifests,
                summary: "revision \(head.short) has \(error.diagnostics.count) manifest error(s); nothing applied",
                diagnostics: error.diagnostics.map(\.description))
        }
        // What changed in the desired state, when the manifests before are known: with the
        // cluster as this master left it, only that is planned.
        let change: DesiredChange? = if case .success(let change) = loaded, loadedRevision != nil { change } else { nil }
        loadedRevision = head
        let desired = manifests.desired

        let outcome: ClusterWriter.Outcome
        do {
            outcome = try await writer.change(from: picture.current) { snapshot in
                let (wanted, actual, held) = Planner.holdingFailedRollouts(desired: desired, actual: snapshot.state)
                let base = PlanBase(kind: .cluster, revision: snapshot.state.revision, branch: branch,
                                    checkIndex: snapshot.checkIndex)
                var plan = if snapshot.derived, let change {
                    Planner.plan(desired: wanted, actual: actual, change: change, base: base, target: head.hex,
                                 now: now, revision: head.hex)
                } else {
                    Planner.plan(desired: wanted, actual: actual, base: base, target: head.hex, now: now, revision: head.hex)
                }
                plan.warnings += held
                guard plan.errors.isEmpty else {
                    return .init(record: refusal(of: head, after: snapshot.syncRecord, reason: .planRefused,
                                                 summary: "revision \(head.short) refused; nothing applied",
                                                 diagnostics: plan.errors))
                }
                let counts = plan.summary.counted
                let record = SyncRecord(
                    repo: remote, branch: branch, lastAppliedRevision: head.hex, lastAttemptedRevision: head.hex,
                    status: .synced, reason: .applied, appliedAt: now.formatted(.iso8601),
                    summary: "applied \(head.short): \(counts.add) added, \(counts.change) changed, \(counts.remove) removed"
                        + (counts.replace > 0 ? ", \(counts.replace) replaced" : ""),
                    diagnostics: plan.warnings)
                return .init(plan: plan, record: record.settled(by: snapshot.rollouts.merging(plan.rollouts)))
            }
        } catch let error as HeliosStoreError {
            // Not applied: conflicts that persisted, or ZooKeeper refusing the writes. Tried again at the next look.
            lastAttempt = nil
            picture.forget()
            metrics.synced("failed", in: .now - start)
            let reason: SyncRecord.Reason = if case .stale = error { .conflict } else { .applyFailed }
            log.error("revision not applied", metadata: ["error": "\(error)"])
            _ = try? await recordRefusal(of: head, reason: reason, summary: "revision \(head.short) not applied: \(error)",
                                         diagnostics: [], retried: true)
            throw error
        }
        picture.keep(outcome.after)
        driftCheckedAt = outcome.checkIndex // the cluster is as this master left it
        guard let record = outcome.decision.record else { return nil }
        guard record.lastAppliedRevision == head.hex, let plan = outcome.decision.plan else {
            metrics.synced("failed", in: .now - start)
            log.error("plan refused, nothing applied", metadata: ["errors": "\(record.diagnostics)"])
            return record
        }
        let summary = plan.summary
        metrics.synced("synced", in: .now - start)
        metrics.planned(add: summary.add, change: summary.change, remove: summary.remove)
        log.info("revision applied", metadata: ["plan.add": "\(summary.add)", "plan.change": "\(summary.change)",
                                                "plan.remove": "\(summary.remove)"])
        if !plan.isEmpty {
            try await store.appendAppliedRevision(AppliedRevision(
                revision: head.hex, appliedAt: record.appliedAt ?? "", summary: record.summary, plan: plan))
            let commit = try? repository.commitInfo(head)
            let people = (commit.map { $0.author == $0.committer ? "by \($0.author)" : "by \($0.author), committed by \($0.committer)" } ?? "")
                + (signer.map { ", signed by \($0)" } ?? "")
            try? await store.appendAudit(AuditEntry(actor: "commit \(head.short) \(people)", action: "applied revision",
                                                   detail: Printable.escape((commit.map { "\($0.summary): " } ?? "") + record.summary, limit: 300)))
        }
        return record
    }

    /// The record of `head` tried and not applied: the last applied revision stays as it was.
    private func refusal(of head: ObjectID, after previous: SyncRecord?, reason: SyncRecord.Reason, summary: String,
                         diagnostics: [String], retried: Bool = false) -> SyncRecord {
        SyncRecord(repo: remote, branch: branch, lastAppliedRevision: previous?.lastAppliedRevision,
                   // A conflict or a failed write is tried again: the revision is not counted as attempted.
                   lastAttemptedRevision: retried ? previous?.lastAttemptedRevision : head.hex,
                   status: .failed, reason: reason, appliedAt: previous?.appliedAt, summary: summary,
                   diagnostics: diagnostics)
    }

    /// Records a fetch that failed (`FetchFailed`, the last applied revision kept), or, once
    /// fetching works again, takes that back (the status again derived from the rollouts).
    private func recordFetch(failure: (any Error)?) async throws {
        guard failure != nil || fetchFailing else { return }
        // The rollouts only to settle a recovered record; a failure reads nothing but the record.
        let rollouts = failure == nil ? try await store.rolloutStatuses() : [:]
        let written = try await writer.changeRecord { current in
            var record = current ?? SyncRecord(repo: remote, branch: branch, lastAppliedRevision: nil,
                                               lastAttemptedRevision: nil, status: .failed, reason: .fetchFailed,
                                               appliedAt: nil, summary: "")
            if let failure {
                record.status = .failed
                record.reason = .fetchFailed
                record.summary = "fetching \(remote) failed: \(failure)"
            } else {
                guard record.reason == .fetchFailed else { return nil }
                record.reason = .applied
                record.summary = "fetching \(remote) works again"
                record = record.settled(by: rollouts)
            }
            return record
        }
        remember(written)
        fetchFailing = failure != nil
    }

    /// The record this master just wrote alone, in its picture of the cluster.
    private func remember(_ written: (record: SyncRecord?, version: Int32)) {
        picture.amend {
            $0.syncRecord = written.record
            $0.syncRecordVersion = written.version
        }
    }

    /// Writes the record of `head` refused.
    private func recordRefusal(of head: ObjectID, reason: SyncRecord.Reason, summary: String, diagnostics: [String],
                               retried: Bool = false) async throws -> SyncRecord? {
        let written = try await writer.changeRecord { current in
            refusal(of: head, after: current, reason: reason, summary: summary, diagnostics: diagnostics, retried: retried)
        }
        remember(written)
        return written.record
    }

    /// Compares the cluster with the revision last applied: whatever differs was changed outside
    /// git (`helios apply --force`, a hand-edited node). It is reported (OUT_OF_SYNC, with the
    /// changes that would revert it) and, with `selfHeal` (the default), reverted. What follows
    /// from the cluster alone is applied whatever selfHeal says: hosts joining or leaving a
    /// selector, jobs reaching `expires`. Deployments rolling out are the rollout controller's,
    /// and one whose rollout failed is held where it is: only a commit that changes it moves it.
    ///
    /// Cheap when nothing moved: it reads the whole cluster only once the check index moved,
    /// hosts changed (`hostsChanged()`), or a declared job's `expires` came.
    @discardableResult
    public func checkDrift(now: Date = Date()) async throws -> SyncRecord? {
        guard let revision = loadedRevision else { return nil }
        let due = manifests.desired.jobs.values.contains { job in
            job.expires.map { $0 <= now && $0 > (expiriesHandledAt ?? .distantPast) } ?? false
        }
        if !due, !hostsMoved, let checked = driftCheckedAt, try await store.checkIndex() == checked { return nil }
        hostsMoved = false
        expiriesHandledAt = now
        let desired = manifests.desired
        let outcome = try await writer.change { snapshot in
            guard var record = snapshot.syncRecord, record.lastAppliedRevision == revision.hex else { return .nothing }
            // Rollouts under way are the planner's to leave alone (they follow host changes themselves).
            let (wanted, actual, _) = Planner.holdingFailedRollouts(desired: desired, actual: snapshot.state)
            let base = PlanBase(kind: .cluster, revision: revision.hex, branch: branch, checkIndex: snapshot.checkIndex)
            let drift = Planner.plan(desired: wanted, actual: actual, base: base, target: revision.hex, now: now,
                                     revision: revision.hex)
            // A refused later commit keeps its record: the drift check only acts on the cluster then.
            let recording = ![.invalidManifests, .planRefused].contains(record.reason)
            guard !drift.isEmpty else {
                guard recording, record.status == .outOfSync else { return .nothing }
                record.status = .synced
                record.reason = .applied
                record.summary = "in sync with \(revision.short) again"
                record.changes = []
                return .init(record: record.settled(by: snapshot.rollouts))
            }
            let ownOnly = Planner.plan(desired: Planner.declaration(of: actual, settings: desired.settings), actual: actual,
                                       base: base, target: revision.hex, now: now, revision: revision.hex)
            let healing = desired.settings.selfHeal && drift.errors.isEmpty
            let plan = healing ? drift : ownOnly
            let expired = desired.jobs.values.filter { job in
                job.expires.map { $0 <= now } ?? false && snapshot.config.jobs[job.id] != nil
            }.map(\.id.nameAndVersion).sorted()
            let placementOnly = drift.changes.allSatisfy { change in
                if case .updateDeployment(_, _, let fields, _) = change { fields.isEmpty } else { false }
            }
            guard recording else { return .init(plan: plan) }
            record.changes = PlanOutline.entries(of: drift)
            if healing || PlanOutline.entries(of: ownOnly) == record.changes {
                record.status = .synced
                if !expired.isEmpty {
                    record.reason = .expired
                    record.summary = "expired, undeployed and removed: " + expired.joined(separator: ", ")
                } else if placementOnly {
                    record.reason = .placement
                    record.summary = "hosts joined or left: \(drift.tasks.count + drift.pending.count) task change(s) for \(revision.short)"
                } else {
                    record.reason = .selfHealed
                    record.summary = "self-healed: \(record.changes.count) change(s) made outside git reverted to \(revision.short)"
                }
                return .init(plan: plan, record: record.settled(by: snapshot.rollouts.merging(plan.rollouts)))
            }
            record.status = .outOfSync
            record.reason = .drift
            record.summary = "drift: the cluster differs from \(revision.short) (selfHeal is off)"
            return .init(plan: plan, record: record)
        }
        driftCheckedAt = outcome.checkIndex
        picture.keep(outcome.after)
        guard let record = outcome.decision.record else { return nil }
        let changes = record.changes.map { "\($0.action) \($0.host.map { "\($0) " } ?? "")\($0.subject)" }
        switch record.reason {
        case .drift:
            logger.warning("drift from git", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
            metrics.drifted()
        case .selfHealed:
            logger.warning("drift from git reverted", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
            metrics.drifted()
        case .placement, .expired:
            logger.info("placement followed the cluster", metadata: ["git.revision": "\(revision.short)", "changes": "\(changes)"])
        default: break
        }
        return record
    }

    /// How long the leader waits between looks at the repository: `pollInterval` of the
    /// applied revision's `helios.yaml`, else `fallback` (the master's `--poll`).
    public func pollInterval(or fallback: Duration) -> Duration {
        manifests.desired.settings.pollInterval.map { .milliseconds($0) } ?? fallback
    }

    /// Hosts registered, went UP or DOWN, or changed labels: the next drift check reads the cluster.
    public func hostsChanged() {
        hostsMoved = true
        picture.forget()
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
                picture.forget()
                logger.warning("sync failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
