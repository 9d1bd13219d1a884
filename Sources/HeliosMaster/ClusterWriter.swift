import Foundation
import HeliosModel
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

    /// What was written, and the snapshot it was decided on.
    struct Outcome: Sendable {
        var decision: Decision
        var snapshot: ConfigSnapshot
        /// The check index after the writes.
        var checkIndex: Int32
    }

    /// Decides on a fresh snapshot and writes the decision; see the type's comment. `decide`
    /// may throw to refuse: nothing is written then.
    @discardableResult
    func change(isolation: isolated (any Actor)? = #isolation,
                _ decide: (ConfigSnapshot) throws -> Decision) async throws -> Outcome {
        var wait = backOff
        var attempt = 0
        while true {
            attempt += 1
            let snapshot = try await store.readCluster()
            let decision = try decide(snapshot)
            do {
                var checkIndex = snapshot.checkIndex
                if let plan = decision.plan, !plan.isEmpty {
                    checkIndex = try await store.apply(plan, to: snapshot, record: decision.record)
                } else if let record = decision.record, record != snapshot.syncRecord {
                    try await store.writeSyncRecord(record, over: snapshot.syncRecordVersion)
                }
                return Outcome(decision: decision, snapshot: snapshot, checkIndex: checkIndex)
            } catch HeliosStoreError.stale where attempt < attempts {
                logger.debug("the cluster changed underneath; deciding again", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: wait)
                wait *= 2
            }
        }
    }
}
