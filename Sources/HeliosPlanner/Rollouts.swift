import Foundation
import HeliosModel

/// Rollouts as plain data. `stage` turns the planner's intended changes into what is written
/// now (each rollout's first batch and its status) and what is pending (later batches, the old
/// job's removal); `advance` is the leader's step: a pure function of the cluster and `now` that
/// says what to write next. Nothing is remembered between calls: what a rollout must remember
/// lives in its `RolloutStatus`, in ZooKeeper.
public enum Rollouts {
    // MARK: Staging

    /// `plan` (every task the changes cause, written at once) as the master applies it: every
    /// deployment whose job changes on hosts that are UP rolls out batch by batch. Only the first
    /// batch's tasks are written now, with a ROLLING_OUT status; later batches are `pending`. DOWN
    /// (or never registered) hosts take no batch: their tasks are written at once and the status
    /// lists them as skipped. A job a rollout still needs (a later batch runs it, or a rollback
    /// would return to it) is removed only when the rollout is done. With `overlap`, a host's old
    /// task stays until its new one is healthy. A rollout in progress that the changes end without
    /// starting another (the deployment stopped, or given a job no host gets) is closed as SUPERSEDED.
    static func stage(_ plan: Plan, actual: ClusterState, now: Date, revision: String?) -> Plan {
        var staged = plan
        staged.changes = plan.changes.map { batchingUpHosts($0, hosts: actual.hosts) }
        var deferred: [String: Set<String>] = [:]   // deployment → hosts of later batches
        var keepingOld: [String: Set<String>] = [:] // deployment → hosts whose old task stays for now
        var keptBy: [String: Set<JobID>] = [:]      // deployment → jobs its rollout still needs
        var newJob: [String: JobID] = [:]
        for change in plan.changes {
            let deployment: Deployment, old: Deployment?, rollout: Rollout?
            switch change {
            case .createDeployment(let new, let steps): (deployment, old, rollout) = (new, nil, steps)
            case .updateDeployment(let before, let new, _, let steps): (deployment, old, rollout) = (new, before, steps)
            default: continue
            }
            let running = actual.rollouts[deployment.name].flatMap { $0.state == .rollingOut ? $0 : nil }
            // Hosts that get the new job, in rollout order; a host that only loses the deployment
            // loses it at once: there is nothing to wait for. No host UP to wait for: no rollout.
            let steps = deployment.goal == .start ? Array((rollout?.batches ?? []).joined()) : []
            let arriving = steps.filter { $0.to != nil }.map(\.host)
            let up = arriving.filter { actual.hosts[$0]?.up == true }
            guard let rollout, !up.isEmpty else {
                if let running, let reason = supersededReason(running, by: deployment) {
                    staged.rollouts.append(close(running, as: .superseded, reason: reason, now: now))
                }
                continue
            }
            let batches = chunks(up, size: rollout.parallelism)
            deferred[deployment.name] = Set(batches.dropFirst().joined())
            keepingOld[deployment.name] = deployment.rollout.overlap ? Set(up) : deferred[deployment.name]
            // What a rollback returns to: the job before, or, when a rollout of this job is
            // already under way (its hosts changed), what that one would have returned to.
            let previous = old.flatMap { $0.jobID == deployment.jobID ? running?.previousJobID : $0.jobID }
            var kept = Set(steps.compactMap(\.from))
            if let previous { kept.insert(previous) }
            keptBy[deployment.name] = kept
            newJob[deployment.name] = deployment.jobID
            let skipped = arriving.filter { actual.hosts[$0]?.up != true }
            // The rollout before (ended, or replaced now) joins the deployment's history.
            let before = actual.rollouts[deployment.name].map { ($0.history + [$0.record]).suffix(RolloutStatus.historyLimit) }
            staged.rollouts.append(RolloutStatus(
                deployment: deployment.name, state: .rollingOut, jobID: deployment.jobID, previousJobID: previous,
                batches: batches, batchStartedAt: now, skipped: skipped, revision: revision, startedAt: now,
                history: before.map(Array.init) ?? []))
        }
        // Even a rollout of one batch keeps the job before (a rollback returns to it; with
        // overlap, the old task runs until the new one is healthy).
        guard !keptBy.isEmpty else { return sparingRolloutsUnderWay(staged, actual: actual) }

        // The jobs removed once their rollouts are done, and which rollout retires which.
        let removed = Set(plan.changes.compactMap { if case .removeJob(let id, _) = $0 { id } else { nil } })
        let kept = keptBy.values.reduce(into: Set<JobID>()) { $0.formUnion($1) }
        for index in staged.rollouts.indices where staged.rollouts[index].state == .rollingOut {
            let name = staged.rollouts[index].deployment
            staged.rollouts[index].retiring = (keptBy[name] ?? []).intersection(removed).sorted()
        }
        staged.changes = staged.changes.map { change in
            if case .removeJob(let id, _) = change { return .removeJob(id, afterRollout: kept.contains(id)) }
            return change
        }

        // The old tasks a host keeps for now: the tasks of that deployment it has now.
        var oldOnHost: [String: Set<JobID>] = [:]
        for change in plan.changes {
            guard case .updateDeployment(_, let new, _, let rollout?) = change, let hosts = keepingOld[new.name] else { continue }
            for step in rollout.batches.joined() where hosts.contains(step.host) {
                if let from = step.from { oldOnHost[step.host, default: []].insert(from) }
            }
        }
        staged.tasks = []
        for task in plan.tasks {
            let now: Bool
            switch task {
            case .deploy(let host, let task), .update(let host, let task):
                now = !(deferred[task.deployment]?.contains(host) ?? false) || newJob[task.deployment] != task.jobID
            case .undeploy(let host, let id):
                now = !(oldOnHost[host]?.contains(id) ?? false)
            }
            if now { staged.tasks.append(task) } else { staged.pending.append(task) }
        }
        return sparingRolloutsUnderWay(staged, actual: actual)
    }

    /// `plan` without the removal of a job that a rollout under way, which the plan leaves
    /// going, still needs: one its later batches' hosts still run, the job a rollback would
    /// return to, one it retires when done. Once its batches moved, no task may run the job
    /// before and git may no longer declare it, yet a drift check or an unrelated commit must not
    /// take it away. A job the rollout does not retire yet joins its `retiring` (its status is
    /// written again, the removal waits for the rollout); one it retires already is not planned
    /// at all, so a plan of a cluster mid-rollout is empty.
    static func sparingRolloutsUnderWay(_ plan: Plan, actual: ClusterState) -> Plan {
        let removed = Set(plan.changes.compactMap { if case .removeJob(let id, afterRollout: false) = $0 { id } else { nil } })
        guard !removed.isEmpty, actual.rollouts.values.contains(where: { $0.state == .rollingOut }) else { return plan }
        var deployments = actual.config.deployments
        for change in plan.changes {
            switch change {
            case .createDeployment(let new, _), .updateDeployment(_, let new, _, _): deployments[new.name] = new
            case .removeDeployment(let old, _): deployments[old.name] = nil
            default: break
            }
        }
        let restaged = Set(plan.rollouts.map(\.deployment))
        let going = actual.rollouts.filter { name, status in
            guard status.state == .rollingOut, !restaged.contains(name), let deployment = deployments[name] else { return false }
            return supersededReason(status, by: deployment) == nil
        }
        var keeps = going.mapValues(\.keptJobs)
        for tasks in actual.config.tasks.values {
            for (id, task) in tasks where removed.contains(id) && keeps[task.deployment] != nil { keeps[task.deployment]!.insert(id) }
        }
        var planned = plan
        var spared: Set<JobID> = [], waiting: Set<JobID> = []
        for name in going.keys.sorted() {
            let status = going[name]!
            let needed = removed.intersection(keeps[name]!)
            guard !needed.isEmpty else { continue }
            spared.formUnion(needed)
            let joining = needed.subtracting(status.retiring)
            guard !joining.isEmpty else { continue }
            waiting.formUnion(joining)
            var retiring = status
            retiring.retiring = (status.retiring + joining).sorted()
            planned.rollouts.append(retiring)
        }
        planned.changes = plan.changes.compactMap { change in
            guard case .removeJob(let id, afterRollout: false) = change, spared.contains(id) else { return change }
            return waiting.contains(id) ? .removeJob(id, afterRollout: true) : nil
        }
        return planned
    }

    // MARK: Advancing

    /// What moves `status` on in `cluster` at `now`, as a plan at the cluster's check index; nil
    /// when there is nothing to write (its batch is still coming up, or it has ended).
    ///
    /// A batch counts once each of its hosts that is UP reports the new job RUNNING (agents say
    /// RUNNING only once the health check passed) for `minHealthy`; a DOWN host is skipped. A host
    /// that FAILED or is throttled (FLAPPING, an image that cannot be pulled) fails the batch, and
    /// so does `timeout`, unless `ignoreFailures`. On failure the rollout stops and, with
    /// `autoRollback`, the deployment and every host it reached return to the job before. Hosts
    /// that joined the deployment's selector since are added as later batches; hosts that left it
    /// lose its task at once.
    public static func advance(_ status: RolloutStatus, in cluster: ClusterState, now: Date) -> Plan? {
        guard status.state == .rollingOut else { return nil }
        guard let deployment = cluster.config.deployments[status.deployment] else {
            return writes(close(status, as: .superseded, reason: "the deployment was removed", now: now), in: cluster)
        }
        if let reason = supersededReason(status, by: deployment) {
            return writes(close(status, as: .superseded, reason: reason, now: now), in: cluster)
        }
        let tasks = cluster.config.tasks
        var next = status
        var placement: [TaskChange] = []

        // Placement follows the hosts: those that left the selector go, those that joined wait their turn.
        let targets = deployment.targetHosts(among: cluster.hosts)
        let targetSet = Set(targets)
        let listed = Set(status.batches.joined()).union(status.skipped)
        let left = listed.subtracting(targetSet).sorted()
        if !left.isEmpty {
            placement += retire(left, of: deployment, keeping: nil, tasks: tasks)
            next.batches = next.batches.enumerated().compactMap { index, hosts in
                let remaining = hosts.filter(targetSet.contains)
                return remaining.isEmpty && index > next.batch ? nil : remaining
            }
            next.skipped.removeAll { !targetSet.contains($0) }
            for host in left { next.healthySince[host] = nil }
        }
        let joined = targets.filter { !listed.contains($0) && tasks[$0]?[status.jobID] == nil }
        if !joined.isEmpty { next.batches += chunks(joined, size: deployment.rollout.parallelism) }

        // The batch in progress.
        var failures: [String] = []
        var waiting: [String] = []
        var skipping: [String] = []
        for host in next.batches[next.batch] {
            guard cluster.hosts[host]?.up == true else {
                skipping.append(host)
                next.healthySince[host] = nil
                continue
            }
            guard let task = cluster.statuses[host]?[status.jobID] else {
                next.healthySince[host] = nil
                waiting.append("\(host) (no status yet)")
                continue
            }
            if task.state == .failed || task.throttled != nil {
                let throttle = task.throttled.map { " \($0.rawValue)" } ?? ""
                failures.append("host \(host): \(task.state.rawValue)\(throttle)" + (task.containerError.map { ": \($0)" } ?? ""))
                next.healthySince[host] = nil
            } else if task.state == .running {
                let since = next.healthySince[host] ?? now
                if deployment.rollout.minHealthy > 0 { next.healthySince[host] = since }
                if milliseconds(from: since, to: now) < deployment.rollout.minHealthy {
                    waiting.append("\(host) (healthy < minHealthy)")
                }
            } else {
                next.healthySince[host] = nil
                waiting.append("\(host) (\(task.state.rawValue))")
            }
        }
        let options = deployment.rollout
        let timedOut = milliseconds(from: status.batchStartedAt, to: now) >= options.timeout
        if !failures.isEmpty && !options.ignoreFailures {
            return fail(next, deployment, reason: failures.joined(separator: "; "), in: cluster, writes: placement, now: now)
        }
        if waiting.isEmpty || (timedOut && options.ignoreFailures) {
            for host in skipping where !next.skipped.contains(host) { next.skipped.append(host) }
            return moveOn(next, deployment, in: cluster, writes: placement, now: now)
        }
        if timedOut {
            let seconds = Int(now.timeIntervalSince(status.batchStartedAt))
            return fail(next, deployment, reason: "batch \(next.batch + 1) of \(next.batches.count) not healthy after "
                        + "\(seconds) s: " + waiting.joined(separator: ", "), in: cluster, writes: placement, now: now)
        }
        return next == status && placement.isEmpty ? nil : writes(next, tasks: placement, in: cluster)
    }

    /// The batch in progress is healthy: the next one is written, or the rollout is done.
    private static func moveOn(_ status: RolloutStatus, _ deployment: Deployment, in cluster: ClusterState,
                               writes placement: [TaskChange], now: Date) -> Plan {
        var status = status
        var tasks = placement
        let current = cluster.config.tasks
        // Overlapping: the healthy batch's old tasks go now (so do a skipped host's).
        if deployment.rollout.overlap {
            tasks += retire(status.batches[status.batch] + status.skipped, of: deployment, keeping: status.jobID, tasks: current)
        }
        var changes: [PlanChange] = []
        if status.batch + 1 >= status.batches.count {
            status = close(status, as: .done, reason: nil, now: now)
            // The jobs it kept go once nothing runs or names them.
            let retired = Set(tasks.compactMap { if case .undeploy(let host, let id) = $0 { HostJob(host: host, job: id) } else { nil } })
            for id in status.retiring where cluster.config.jobs[id] != nil {
                let named = cluster.config.deployments.values.contains { $0.jobID == id }
                let running = current.contains { host, jobs in jobs[id] != nil && !retired.contains(HostJob(host: host, job: id)) }
                if !named && !running { changes.append(.removeJob(id, afterRollout: false)) }
            }
        } else {
            status.batch += 1
            status.batchStartedAt = now
            status.healthySince = [:]
            tasks += move(status.batches[status.batch], of: deployment, to: status.jobID, tasks: current,
                          keepingOld: deployment.rollout.overlap)
        }
        return writes(status, changes: changes, tasks: tasks, in: cluster)
    }

    private static func fail(_ status: RolloutStatus, _ deployment: Deployment, reason: String, in cluster: ClusterState,
                             writes placement: [TaskChange], now: Date) -> Plan {
        var status = status
        let error = "rollout of \(status.deployment) to \(status.jobID) failed in batch \(status.batch + 1): \(reason)"
        var changes: [PlanChange] = []
        var tasks = placement
        if deployment.rollout.autoRollback, let previous = status.previousJobID, cluster.config.jobs[previous] != nil {
            var restored = deployment
            restored.jobID = previous
            changes.append(.updateDeployment(old: deployment, new: restored, fields: [], rollout: nil))
            let reached = Array(status.batches[0...status.batch].joined()) + status.skipped
            tasks += move(reached, of: restored, to: previous, tasks: cluster.config.tasks)
            status = close(status, as: .rolledBack, reason: error + "; rolled back to \(previous)", now: now)
        } else {
            status = close(status, as: .failed, reason: error, now: now)
        }
        return writes(status, changes: changes, tasks: tasks, in: cluster)
    }

    // MARK: Pieces

    /// A deployment change whose rollout batches only the hosts that are UP and lists the
    /// others (they get the new job at once) as skipped: the rollout as it will run.
    static func batchingUpHosts(_ change: PlanChange, hosts: [String: HostState]) -> PlanChange {
        func batched(_ rollout: Rollout, _ deployment: Deployment) -> Rollout {
            let steps = Array(rollout.batches.joined())
            guard deployment.goal == .start, steps.contains(where: { $0.to != nil && hosts[$0.host]?.up != true }) else {
                return rollout
            }
            let arriving = steps.filter { $0.to != nil }
            return Rollout(parallelism: rollout.parallelism,
                           batches: chunks(arriving.filter { hosts[$0.host]?.up == true }, size: rollout.parallelism),
                           skipped: arriving.filter { hosts[$0.host]?.up != true })
        }
        switch change {
        case .createDeployment(let new, let rollout): return .createDeployment(new, rollout: batched(rollout, new))
        case .updateDeployment(let old, let new, let fields, let rollout?):
            return .updateDeployment(old: old, new: new, fields: fields, rollout: batched(rollout, new))
        default: return change
        }
    }

    /// Why a rollout in progress no longer applies to `deployment`, or nil while it does.
    static func supersededReason(_ status: RolloutStatus, by deployment: Deployment) -> String? {
        if deployment.jobID != status.jobID { return "superseded: the deployment now runs \(deployment.jobID)" }
        if deployment.goal == .stop { return "superseded: the deployment was stopped" }
        return nil
    }

    static func close(_ status: RolloutStatus, as state: RolloutStatus.State, reason: String?, now: Date) -> RolloutStatus {
        var status = status
        status.state = state
        status.error = reason
        status.endedAt = now
        status.healthySince = [:]
        return status
    }

    /// The writes that move a rollout on: its status with the tasks and changes, at the cluster's check index.
    private static func writes(_ status: RolloutStatus, changes: [PlanChange] = [], tasks: [TaskChange] = [],
                               in cluster: ClusterState) -> Plan {
        Plan(base: PlanBase(kind: .cluster, revision: cluster.revision, checkIndex: cluster.checkIndex),
             target: "rollout of \(status.deployment)", changes: changes, tasks: tasks, rollouts: [status])
    }

    /// The task writes that move `hosts` of a deployment to `job`: each host's task of that
    /// deployment for another job goes, the new one comes (unless the host has it already).
    /// With `keepingOld`, the old tasks stay (an overlapping rollout retires them once the new
    /// ones are healthy).
    static func move(_ hosts: [String], of deployment: Deployment, to job: JobID,
                     tasks: [String: [JobID: HostTask]], keepingOld: Bool = false) -> [TaskChange] {
        var changes: [TaskChange] = []
        let goal: Goal = deployment.goal == .start ? .start : .stop
        for host in hosts {
            if !keepingOld { changes += retire([host], of: deployment, keeping: job, tasks: tasks) }
            if tasks[host]?[job] == nil {
                changes.append(.deploy(host: host, HostTask(jobID: job, goal: goal, deployment: deployment.name)))
            }
        }
        return changes
    }

    /// The removals of `hosts`' tasks of the deployment for any job but `job` (nil: every one).
    static func retire(_ hosts: [String], of deployment: Deployment, keeping job: JobID?,
                       tasks: [String: [JobID: HostTask]]) -> [TaskChange] {
        hosts.flatMap { host in
            (tasks[host] ?? [:]).values.filter { $0.deployment == deployment.name && $0.jobID != job }
                .sorted { $0.jobID < $1.jobID }.map { TaskChange.undeploy(host: host, $0.jobID) }
        }
    }

    /// `items` in order, cut into batches of `size` (at least 1).
    static func chunks<Item>(_ items: [Item], size: Int) -> [[Item]] {
        let size = max(1, size)
        return stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    private static func milliseconds(from start: Date, to end: Date) -> Int64 {
        Int64((end.timeIntervalSince(start) * 1000).rounded(.down))
    }
}

extension Rollouts {
    /// Several rollouts' writes as one plan, at the cluster's check index: each job removed once.
    public static func combine(_ plans: [Plan], in cluster: ClusterState) -> Plan {
        var combined = Plan(base: PlanBase(kind: .cluster, revision: cluster.revision, checkIndex: cluster.checkIndex),
                            target: plans.count == 1 ? plans[0].target : "rollouts", changes: [], tasks: [])
        var removed: Set<JobID> = []
        for plan in plans {
            for change in plan.changes {
                if case .removeJob(let id, _) = change, !removed.insert(id).inserted { continue }
                combined.changes.append(change)
            }
            combined.tasks += plan.tasks
            combined.rollouts += plan.rollouts
        }
        return combined
    }
}
