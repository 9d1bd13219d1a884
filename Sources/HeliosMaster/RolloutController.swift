import Foundation
import HeliosModel
import HeliosPlanner
import HeliosStore
import Logging

/// Moves rollouts on, batch by batch; the leading master runs it. A batch counts once each of
/// its hosts reports the new job RUNNING (healthy: agents say RUNNING only after the health
/// check passed) for `minHealthy`; a host that FAILED or is throttled (FLAPPING, an image that
/// cannot be pulled) fails it, and so does `timeout`. On failure the rollout stops and, with
/// `autoRollback`, the deployment and every host it reached return to the job before.
///
/// Everything it decides is written to ZooKeeper with the tasks it writes, in one transaction,
/// so a master that takes over carries on where the last one stopped.
actor RolloutController {
    let store: HeliosStore
    let logger: Logger
    /// When each host of a batch was first seen healthy (`deployment/host/job`): `minHealthy`
    /// counts from here. Memory only: a new leader watches them again from its first look.
    private var healthySince: [String: Date] = [:]

    init(store: HeliosStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Looks every `interval` until cancelled.
    func run(every interval: Duration) async throws {
        while true {
            do {
                try await step(now: Date())
            } catch HeliosStoreError.stale {
                continue // the configuration moved meanwhile: look again at once
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("rollout step failed", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: interval)
        }
    }

    /// One look at every rollout in progress; writes at most one transaction.
    func step(now: Date) async throws {
        let snapshot = try await store.readConfig()
        for status in snapshot.rollouts.values.sorted(by: { $0.deployment < $1.deployment }) where status.state == .rollingOut {
            if let plan = decide(status, in: snapshot, now: now) {
                try await store.apply(plan, to: snapshot)
                if let ended = plan.rollouts.first, ended.state != .rollingOut { try await record(ended) }
                return
            }
        }
    }

    /// The writes that move `status` on, or nil while its batch is still coming up.
    func decide(_ status: RolloutStatus, in snapshot: ConfigSnapshot, now: Date) -> Plan? {
        // A deployment changed since (a newer plan started its own rollout) or removed: nothing to do.
        guard let deployment = snapshot.config.deployments[status.deployment], deployment.jobID == status.jobID else {
            return nil
        }
        var failures: [String] = []
        var waiting: [String] = []
        for host in status.batches[status.batch] {
            let key = "\(status.deployment)/\(host)/\(status.jobID)"
            guard let task = snapshot.state.statuses[host]?[status.jobID] else {
                healthySince[key] = nil
                waiting.append("\(host) (no status yet)")
                continue
            }
            if task.state == .failed || task.throttled != nil {
                let throttle = task.throttled.map { " \($0.rawValue)" } ?? ""
                failures.append("host \(host): \(task.state.rawValue)\(throttle)" + (task.containerError.map { ": \($0)" } ?? ""))
            } else if task.state == .running {
                let since = healthySince[key] ?? now
                healthySince[key] = since
                if now.timeIntervalSince(since) * 1000 < Double(deployment.rollout.minHealthy) { waiting.append("\(host) (healthy < minHealthy)") }
            } else {
                healthySince[key] = nil
                waiting.append("\(host) (\(task.state.rawValue))")
            }
        }
        let options = deployment.rollout
        let timedOut = now.timeIntervalSince(status.batchStartedAt) * 1000 >= Double(options.timeout)
        if !failures.isEmpty && !options.ignoreFailures {
            return fail(status, deployment, reason: failures.joined(separator: "; "), in: snapshot, now: now)
        }
        if waiting.isEmpty || (timedOut && options.ignoreFailures) {
            return next(status, deployment, in: snapshot, now: now)
        }
        if timedOut {
            let seconds = Int(now.timeIntervalSince(status.batchStartedAt))
            return fail(status, deployment, reason: "batch \(status.batch + 1) of \(status.batches.count) not healthy after "
                        + "\(seconds) s: " + waiting.joined(separator: ", "), in: snapshot, now: now)
        }
        return nil
    }

    private func next(_ status: RolloutStatus, _ deployment: Deployment, in snapshot: ConfigSnapshot, now: Date) -> Plan {
        var status = status
        let overlap = deployment.rollout.overlap
        // Overlapping: the healthy batch's old tasks go now.
        var tasks = overlap ? RolloutStaging.retire(status.batches[status.batch], of: deployment, keeping: status.jobID,
                                                    tasks: snapshot.config.tasks) : []
        var changes: [PlanChange] = []
        if status.batch + 1 == status.batches.count {
            status.state = .done
            // The job before, kept for a rollback, goes once nothing runs or names it.
            let retiring = Set(tasks.compactMap { if case .undeploy(let host, let id) = $0 { "\(host)/\(id)" } else { nil } })
            if let previous = status.previousJobID, snapshot.config.jobs[previous] != nil,
               !snapshot.config.deployments.values.contains(where: { $0.jobID == previous }),
               !snapshot.config.tasks.contains(where: { host, jobs in
                   jobs[previous] != nil && !retiring.contains("\(host)/\(previous)")
               }) {
                changes.append(.removeJob(previous, afterRollout: false))
            }
            logger.info("rollout done", metadata: ["deployment": "\(status.deployment)", "job.id": "\(status.jobID)"])
        } else {
            status.batch += 1
            status.batchStartedAt = now
            tasks += RolloutStaging.move(status.batches[status.batch], of: deployment, to: status.jobID,
                                         tasks: snapshot.config.tasks, keepingOld: overlap)
            logger.info("rollout batch \(status.batch + 1) of \(status.batches.count)",
                        metadata: ["deployment": "\(status.deployment)", "hosts": "\(status.batches[status.batch])"])
        }
        return plan(status, changes: changes, tasks: tasks, in: snapshot)
    }

    private func fail(_ status: RolloutStatus, _ deployment: Deployment, reason: String, in snapshot: ConfigSnapshot,
                      now: Date) -> Plan {
        var status = status
        status.error = "rollout of \(status.deployment) to \(status.jobID) failed in batch \(status.batch + 1): \(reason)"
        var changes: [PlanChange] = []
        var tasks: [TaskChange] = []
        if deployment.rollout.autoRollback, let previous = status.previousJobID, snapshot.config.jobs[previous] != nil {
            var restored = deployment
            restored.jobID = previous
            changes.append(.updateDeployment(old: deployment, new: restored, fields: [], rollout: nil))
            tasks = RolloutStaging.move(Array(status.batches[0...status.batch].joined()), of: restored, to: previous,
                                        tasks: snapshot.config.tasks)
            status.state = .rolledBack
            status.error! += "; rolled back to \(previous)"
        } else {
            status.state = .failed
        }
        logger.error("rollout failed", metadata: ["deployment": "\(status.deployment)", "error": "\(status.error!)"])
        return plan(status, changes: changes, tasks: tasks, in: snapshot)
    }

    /// The writes that move a rollout on: its status with the tasks and changes, at the snapshot's check index.
    private func plan(_ status: RolloutStatus, changes: [PlanChange], tasks: [TaskChange], in snapshot: ConfigSnapshot) -> Plan {
        Plan(base: PlanBase(kind: .cluster, checkIndex: snapshot.checkIndex), target: "rollout of \(status.deployment)",
             changes: changes, tasks: tasks, rollouts: [status])
    }

    /// An ended rollout of a synced revision settles its sync record: SYNCED once every rollout
    /// of it is done, FAILED (with the host and reason) when one failed.
    private func record(_ ended: RolloutStatus) async throws {
        guard var record = try await store.syncRecord(), record.status == .progressing,
              ended.revision == nil || ended.revision == record.revision else { return }
        if ended.state == .done {
            let snapshot = try await store.readConfig()
            guard !snapshot.rollouts.values.contains(where: { $0.state == .rollingOut && $0.revision == record.revision })
            else { return }
            record.status = .synced
        } else {
            record.status = .failed
            record.summary = ended.error ?? "rollout of \(ended.deployment) failed"
            record.diagnostics = [record.summary]
        }
        try await store.writeSyncRecord(record)
    }
}
