import Foundation
import HeliosModel

/// Turns plans into rollouts, batch by batch. Pure: the master's rollout controller decides
/// when (its hosts healthy, a timeout, a failure); these functions say what is written.
public enum RolloutStaging {
    /// The plan as the master applies it: every deployment whose job changes on some hosts gets
    /// only its first batch's tasks now, and a ROLLING_OUT status; the rest waits for the
    /// controller. A job a later batch still runs is not removed yet (the controller removes
    /// it when the rollout is done), nor is the one a rollback would return to. With `overlap`,
    /// a host's old task stays until its new one is healthy (the controller removes it then).
    public static func stage(_ plan: Plan, now: Date, revision: String?) -> Plan {
        var staged = plan
        var deferred: [String: Set<String>] = [:]   // deployment → hosts of later batches
        var keepingOld: [String: Set<String>] = [:] // deployment → hosts whose old task stays for now
        var kept: Set<JobID> = []
        for change in plan.changes {
            let deployment: Deployment, previous: JobID?, rollout: Rollout?
            switch change {
            case .createDeployment(let new, let steps): (deployment, previous, rollout) = (new, nil, steps)
            case .updateDeployment(let old, let new, _, let steps):
                (deployment, previous, rollout) = (new, old.jobID == new.jobID ? nil : old.jobID, steps)
            default: continue
            }
            guard let rollout, deployment.goal == .start else { continue }
            // Hosts that get the new job, in rollout order; a host that only loses the deployment
            // loses it at once: there is nothing to wait for.
            let arriving = rollout.batches.joined().filter { $0.to != nil }.map(\.host)
            guard !arriving.isEmpty else { continue }
            let size = max(1, rollout.parallelism)
            let batches = stride(from: 0, to: arriving.count, by: size).map { Array(arriving[$0..<min($0 + size, arriving.count)]) }
            deferred[deployment.name] = Set(batches.dropFirst().joined())
            keepingOld[deployment.name] = deployment.rollout.overlap ? Set(arriving) : deferred[deployment.name]
            for step in rollout.batches.joined() { if let from = step.from { kept.insert(from) } }
            if let previous { kept.insert(previous) }
            staged.rollouts.append(RolloutStatus(
                deployment: deployment.name, state: .rollingOut, jobID: deployment.jobID, previousJobID: previous,
                batches: batches, batchStartedAt: now, revision: revision))
        }
        guard !deferred.isEmpty else { return plan }
        // The old task of a deferred host: the task of that deployment it has now.
        let newJob = Dictionary(staged.rollouts.map { ($0.deployment, $0.jobID) }, uniquingKeysWith: { first, _ in first })
        var oldOnHost: [String: Set<JobID>] = [:]
        for change in plan.changes {
            guard case .updateDeployment(_, let new, _, let rollout?) = change, let hosts = keepingOld[new.name] else { continue }
            for step in rollout.batches.joined() where hosts.contains(step.host) {
                if let from = step.from { oldOnHost[step.host, default: []].insert(from) }
            }
        }
        staged.tasks = plan.tasks.filter { task in
            switch task {
            case .deploy(let host, let task), .update(let host, let task):
                return !(deferred[task.deployment]?.contains(host) ?? false) || newJob[task.deployment] != task.jobID
            case .undeploy(let host, let id):
                return !(oldOnHost[host]?.contains(id) ?? false)
            }
        }
        staged.changes = plan.changes.filter { change in
            if case .removeJob(let id, _) = change { return !kept.contains(id) }
            return true
        }
        return staged
    }

    /// The task writes that move `hosts` of a deployment to `job`: each host's task of that
    /// deployment for another job goes, the new one comes (unless the host has it already).
    /// With `keepingOld`, the old tasks stay (an overlapping rollout retires them once the new
    /// ones are healthy).
    public static func move(_ hosts: [String], of deployment: Deployment, to job: JobID,
                            tasks: [String: [JobID: HostTask]], keepingOld: Bool = false) -> [TaskChange] {
        var changes: [TaskChange] = []
        let goal: Goal = deployment.goal == .start ? .start : .stop
        for host in hosts {
            let current = (tasks[host] ?? [:]).values.filter { $0.deployment == deployment.name }
            if !keepingOld { changes += retire([host], of: deployment, keeping: job, tasks: tasks) }
            if !current.contains(where: { $0.jobID == job }) && tasks[host]?[job] == nil {
                changes.append(.deploy(host: host, HostTask(jobID: job, goal: goal, deployment: deployment.name)))
            }
        }
        return changes
    }

    /// The removals of `hosts`' tasks of the deployment for any job but `job`.
    public static func retire(_ hosts: [String], of deployment: Deployment, keeping job: JobID,
                              tasks: [String: [JobID: HostTask]]) -> [TaskChange] {
        hosts.flatMap { host in
            (tasks[host] ?? [:]).values.filter { $0.deployment == deployment.name && $0.jobID != job }
                .sorted { $0.jobID < $1.jobID }.map { TaskChange.undeploy(host: host, $0.jobID) }
        }
    }
}
