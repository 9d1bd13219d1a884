import Foundation
import HeliosModel
import HeliosPlanner
import HeliosStore
import Logging

/// The one door through which the master changes the cluster: git sync, the drift check,
/// `POST /v1/apply` and the rollout controller all come through it.
///
/// Read → decide → apply guarded by the check index (and the sync record's version, when the
/// decision records one) → when another writer came first, read again and decide again, with
/// back-off, a bounded number of times (Nomad's plan applier: a stale plan is recomputed, never
/// patched). A conflict that persists is thrown as `HeliosStoreError.stale` for the caller to record.
struct ClusterWriter: Sendable {
    let store: HeliosStore
    let logger: Logger
    /// How many times a decision is made before a persistent conflict is given up.
    var attempts = 5
    /// The first wait after a conflict; it doubles each time.
    var backOff: Duration = .milliseconds(20)

    /// What a caller decides from a snapshot: the plan to apply (nil or empty: none) and the sync
    /// record to write with it (nil: leave it as it is).
    struct Decision: Sendable {
        var plan: Plan?
        var record: SyncRecord?

        init(plan: Plan? = nil, record: SyncRecord? = nil) {
            self.plan = plan
            self.record = record
        }

        static let nothing = Decision()
    }

    /// What was written, the snapshot it was decided on, and the cluster it left.
    struct Outcome: Sendable {
        var decision: Decision
        var snapshot: ConfigSnapshot
        /// The check index after the writes.
        var checkIndex: Int32
        /// The snapshot with the writes made: what the cluster holds while nobody else writes.
        var after: ConfigSnapshot
    }

    /// Decides on a snapshot and writes the decision; see the type's comment. The first decision
    /// is made on `known` when given (a snapshot this master derived from its last write: the
    /// write's check index check says whether it still holds), every other on a fresh read.
    /// `decide` may throw to refuse: nothing is written then.
    @discardableResult
    func change(from known: ConfigSnapshot? = nil, isolation: isolated (any Actor)? = #isolation,
                _ decide: (ConfigSnapshot) throws -> Decision) async throws -> Outcome {
        var known = known
        return try await retryingConflicts {
            let snapshot: ConfigSnapshot
            if let cached = known {
                snapshot = cached
                known = nil
            } else {
                snapshot = try await store.readCluster()
            }
            let decision = try decide(snapshot)
            var checkIndex = snapshot.checkIndex
            var record = decision.record
            if let plan = decision.plan, !plan.isEmpty {
                checkIndex = try await store.apply(plan, to: snapshot, record: record)
            } else if let written = record, written != snapshot.syncRecord {
                try await store.writeSyncRecord(written, over: snapshot.syncRecordVersion)
            } else {
                record = nil // nothing written
            }
            return Outcome(decision: decision, snapshot: snapshot, checkIndex: checkIndex,
                           after: snapshot.after(decision.plan, record: record, checkIndex: checkIndex))
        }
    }

    /// Writes the sync record alone: what `decide` makes of the one there now, over its version
    /// (read again and decided again when another writer came first). Nothing else of the cluster
    /// is read. Returns the record there afterwards and the version of its node.
    @discardableResult
    func changeRecord(isolation: isolated (any Actor)? = #isolation,
                      _ decide: (SyncRecord?) throws -> SyncRecord?) async throws -> (record: SyncRecord?, version: Int32) {
        try await retryingConflicts {
            let (current, version) = try await store.versionedSyncRecord()
            guard let record = try decide(current), record != current else { return (current, version) }
            try await store.writeSyncRecord(record, over: version)
            return (record, version + 1) // -1 (none) becomes 0: the node was created
        }
    }

    /// `attempt` again, with back-off, while another writer came first; the last conflict is thrown.
    private func retryingConflicts<T>(isolation: isolated (any Actor)? = #isolation,
                                      _ attempt: () async throws -> T) async throws -> T {
        var wait = backOff
        var number = 0
        while true {
            number += 1
            do {
                return try await attempt()
            } catch HeliosStoreError.stale where number < attempts {
                logger.debug("the cluster changed underneath; deciding again", metadata: ["attempt": "\(number)"])
                try await Task.sleep(for: wait)
                wait *= 2
            }
        }
    }
}

extension ConfigSnapshot {
    /// This snapshot once `plan` and `record` are written over it, at `checkIndex`.
    func after(_ plan: Plan?, record: SyncRecord?, checkIndex: Int32) -> ConfigSnapshot {
        var next = self
        if let plan, !plan.isEmpty {
            next.state = state.applying(plan)
            for case .deploy(let host, _) in plan.tasks { next.hostDirectories.insert(host) }
        }
        next.state.checkIndex = checkIndex
        if let record {
            next.syncRecord = record
            next.syncRecordVersion = syncRecordVersion + 1 // -1 (none) becomes 0: the node was created
            next.state.revision = record.lastAppliedRevision
        }
        next.derived = true
        return next
    }
}
