import Foundation
import HeliosModel
import HeliosPlanner
import HeliosStore
import Logging

/// Moves rollouts on; the leading master runs it. Each look writes what `Rollouts.advance`
/// decides for every rollout in progress, in one transaction through the `ClusterWriter`, with
/// the sync record settled by the rollouts that ended. It remembers nothing a new leader would
/// need: that is all in the rollout statuses.
///
/// Idle, a look costs one ZooKeeper read: rollout statuses are written only with the check
/// index, so while that stands still and no rollout was running, there is nothing to read.
/// Rolling out, a look reads only the hosts of the batches in progress (whether each is UP and
/// its agent's report of the task rolled out: two reads a host) into the cluster as this master
/// last saw or left it (its `ClusterPicture`, which git sync's writes keep too); the whole cluster is
/// read again when another writer moved the check index, and at least every `fullReadInterval`
/// (hosts joining or leaving a selector show up then).
actor RolloutController {
    let store: HeliosStore
    let logger: Logger
    /// The check index at which no rollout was running.
    private var idleAt: Int32?
    /// The cluster as this master's last write left it (git sync's writes keep it too).
    private let picture: ClusterPicture
    /// When this controller last read the cluster in full.
    private var readInFull = ContinuousClock.now
    static let fullReadInterval: Duration = .seconds(30)
    /// How often the leader looks: a batch waits at most this long after its hosts are healthy.
    /// Idle, each look is one read.
    static let interval: Duration = .milliseconds(200)

    init(store: HeliosStore, logger: Logger, picture: ClusterPicture = ClusterPicture()) {
        self.store = store
        self.logger = logger
        self.picture = picture
    }

    /// Looks every `interval` until cancelled.
    func run(every interval: Duration) async throws {
        while true {
            do {
                try await step(now: Date())
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                picture.forget()
                logger.warning("rollout step failed", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: interval)
        }
    }

    /// One look at every rollout in progress; writes at most one transaction.
    func step(now: Date) async throws {
        let checkIndex = try await store.checkIndex()
        if checkIndex == idleAt { return }
        var current: ConfigSnapshot?
        if let known = picture.current, known.checkIndex == checkIndex, ContinuousClock.now - readInFull < Self.fullReadInterval {
            let rolling = known.rollouts.values.filter { $0.state == .rollingOut }
            guard !rolling.isEmpty else {
                idleAt = checkIndex
                return
            }
            current = try await store.refreshing(rolling.flatMap { status in status.batches[status.batch].map { ($0, status.jobID) } },
                                                 in: known)
        } else {
            guard try await store.rolloutStatuses().values.contains(where: { $0.state == .rollingOut }) else {
                idleAt = checkIndex
                return
            }
        }
        idleAt = nil
        let outcome = try await ClusterWriter(store: store, logger: logger).change(from: current) { snapshot in
            let advances = snapshot.rollouts.keys.sorted().compactMap { name in
                Rollouts.advance(snapshot.rollouts[name]!, in: snapshot.state, now: now)
            }
            guard !advances.isEmpty else { return .nothing }
            let plan = Rollouts.combine(advances, in: snapshot.state)
            let record = snapshot.syncRecord?.settled(by: snapshot.rollouts.merging(plan.rollouts))
            return .init(plan: plan, record: record == snapshot.syncRecord ? nil : record)
        }
        if !outcome.snapshot.derived { readInFull = .now }
        picture.keep(outcome.after)
        for status in outcome.decision.plan?.rollouts ?? [] {
            let before = outcome.snapshot.rollouts[status.deployment]
            let metadata: Logger.Metadata = ["deployment": "\(status.deployment)", "job.id": "\(status.jobID)"]
            switch status.state {
            case .rollingOut where before?.batch != status.batch:
                logger.info("rollout batch \(status.batch + 1) of \(status.batches.count)", metadata: metadata)
            case .done: logger.info("rollout done", metadata: metadata)
            case .failed, .rolledBack, .superseded:
                logger.error("rollout ended", metadata: metadata.merging(["state": "\(status.state.rawValue)",
                                                                          "error": "\(status.error ?? "")"]) { $1 })
            default: break
            }
        }
    }
}
