import Foundation
import HeliosModel

/// The pure planner: from what git declares and what the cluster holds to the changes that
/// make the cluster match, as the master writes them (`Rollouts.stage`). No I/O; the clock
/// comes in as `now`: the same inputs give byte-identical plans.
public enum Planner {
    /// The plan that takes `actual` to `desired`. `now` is when it is applied (a rollout's first
    /// batch starts then; a job whose `expires` is past is undeployed and removed); `revision`
    /// names the git revision the rollouts it starts belong to.
    public static func plan(desired: DesiredState, actual: ClusterState, base: PlanBase, target: String,
                            now: Date, revision: String? = nil) -> Plan {
        let full = plan(desired: desired, actual: actual, deploymentCount: actual.config.deployments.count,
                        base: base, target: target, now: now)
        return Rollouts.stage(full, actual: actual, now: now, revision: revision)
    }

    /// The plan for what `change` touches, when the cluster otherwise holds what `desired`
    /// declares: the plan `plan(desired:actual:base:target:now:)` gives, at the cost of the change's
    /// size rather than the cluster's. The master uses it for a commit after one it applied,
    /// while the cluster's configuration and hosts have not changed in between; a change of
    /// the sync settings plans in full. Warnings only concern what the change touches.
    public static func plan(desired: DesiredState, actual: ClusterState, change: DesiredChange,
                            base: PlanBase, target: String, now: Date, revision: String? = nil) -> Plan {
        guard !change.settings else {
            return plan(desired: desired, actual: actual, base: base, target: target, now: now, revision: revision)
        }
        let config = actual.config
        // Deployments sharing a job with a changed one: on a host both target, the first by name runs it.
        var names = change.deployments
        let sharedJobs = Set(names.flatMap { [desired.deployments[$0]?.jobID, config.deployments[$0]?.jobID] }.compactMap { $0 })
        if !sharedJobs.isEmpty {
            for (name, deployment) in desired.deployments where sharedJobs.contains(deployment.jobID) { names.insert(name) }
            for (name, deployment) in config.deployments where sharedJobs.contains(deployment.jobID) { names.insert(name) }
        }
        // Deployments whose hosts still run a job the change touches (mid-rollout, the job before):
        // whether that job may go depends on them.
        let touchedJobs = change.jobs.union(sharedJobs)
        for tasks in config.tasks.values {
            for (id, task) in tasks where touchedJobs.contains(id) { names.insert(task.deployment) }
        }
        // Deployments rolling out that keep a job the change touches (for a rollback, or to retire when done).
        for (name, status) in actual.rollouts where status.state == .rollingOut
            && !status.keptJobs.isDisjoint(with: touchedJobs) {
            names.insert(name)
        }
        // Both sides narrowed to those deployments, their jobs and tasks, and the changed jobs.
        var current = ClusterConfig()
        var jobs = change.jobs
        for name in names {
            // The jobs its rollout returns to or retires, though no host may run them any more.
            if let status = actual.rollouts[name], status.state == .rollingOut {
                jobs.formUnion(status.keptJobs)
            }
            guard let deployment = config.deployments[name] else { continue }
            current.deployments[name] = deployment
            jobs.insert(deployment.jobID)
        }
        // Every task of those deployments, of whichever job (mid-rollout, hosts run the one before)
        // and on whichever host (one that left a selector still has it).
        for (host, tasks) in config.tasks {
            for (id, task) in tasks where names.contains(task.deployment) {
                current.tasks[host, default: [:]][id] = task
                jobs.insert(id)
            }
        }
        var wanted = DesiredState(settings: desired.settings)
        for name in names {
            guard let deployment = desired.deployments[name] else { continue }
            wanted.deployments[name] = deployment
            jobs.insert(deployment.jobID)
        }
        for id in jobs {
            current.jobs[id] = config.jobs[id]
            wanted.jobs[id] = desired.jobs[id]
        }
        let narrowed = ClusterState(config: current, hosts: actual.hosts, checkIndex: actual.checkIndex,
                                    revision: actual.revision, rollouts: actual.rollouts.filter { names.contains($0.key) })
        let full = plan(desired: wanted, actual: narrowed, deploymentCount: config.deployments.count,
                        base: base, target: target, now: now)
        return Rollouts.stage(full, actual: narrowed, now: now, revision: revision)
    }

    /// What the cluster declares of itself: its jobs and deployments as desired. Planned against
    /// the cluster, it gives only what follows from the cluster alone: tasks for hosts that
    /// joined or left a selector, and the removal of expired jobs.
    public static func declaration(of cluster: ClusterState, settings: SyncSettings = SyncSettings()) -> DesiredState {
        DesiredState(jobs: cluster.config.jobs, deployments: cluster.config.deployments, settings: settings)
    }

    /// `desired` and `actual` with the deployments held by failed rollouts taken out (see
    /// `heldByFailedRollouts`), and the warnings a plan of them carries: what git sync and the
    /// drift check plan.
    public static func holdingFailedRollouts(desired: DesiredState, actual: ClusterState)
        -> (desired: DesiredState, actual: ClusterState, warnings: [String]) {
        let held = heldByFailedRollouts(desired: desired, actual: actual)
        let (wanted, remaining) = holding(held, desired: desired, actual: actual)
        let warnings = held.sorted().compactMap { name -> String? in
            guard let status = actual.rollouts[name] else { return nil }
            return "deployment '\(name)' is held: its rollout to \(status.jobID.nameAndVersion) "
                + "\(status.state == .rolledBack ? "was rolled back" : "failed"); change the deployment or its job to try again"
        }
        return (wanted, remaining, warnings)
    }

    /// Deployments whose last rollout failed (or was rolled back) and which `desired` still
    /// declares as that rollout had them: the same job, the same configuration otherwise. They are
    /// held where the cluster has them: rolling the known-bad job out again takes a change to
    /// the deployment or its job, not an unrelated commit or a drift check.
    static func heldByFailedRollouts(desired: DesiredState, actual: ClusterState) -> Set<String> {
        var held: Set<String> = []
        for (name, status) in actual.rollouts where status.hasFailed {
            guard let wanted = desired.deployments[name], wanted.jobID == status.jobID,
                  var current = actual.config.deployments[name] else { continue }
            current.jobID = status.jobID // a rollback changed only the job
            if current.sameConfiguration(as: wanted) { held.insert(name) }
        }
        return held
    }

    /// `desired` and `actual` without the deployments `held`: a plan of the two leaves those
    /// deployments, their tasks and the jobs only they use exactly as the cluster has them.
    static func holding(_ held: Set<String>, desired: DesiredState, actual: ClusterState) -> (DesiredState, ClusterState) {
        guard !held.isEmpty else { return (desired, actual) }
        var desired = desired, actual = actual
        var heldJobs: Set<JobID> = [], otherJobs: Set<JobID> = []
        for (name, deployment) in Array(desired.deployments) + Array(actual.config.deployments) {
            if held.contains(name) { heldJobs.insert(deployment.jobID) } else { otherJobs.insert(deployment.jobID) }
        }
        for (host, tasks) in actual.config.tasks {
            for (id, task) in tasks {
                guard held.contains(task.deployment) else { otherJobs.insert(id); continue }
                heldJobs.insert(id)
                actual.config.tasks[host]?[id] = nil
            }
            if actual.config.tasks[host]?.isEmpty == true { actual.config.tasks[host] = nil }
        }
        for name in held {
            desired.deployments[name] = nil
            actual.config.deployments[name] = nil
        }
        for id in heldJobs.subtracting(otherJobs) {
            desired.jobs[id] = nil
            actual.config.jobs[id] = nil
        }
        actual.rollouts = actual.rollouts.filter { !held.contains($0.key) }
        return (desired, actual)
    }

    /// The plan; `deploymentCount`: how many deployments the whole cluster holds, for `maxPrune`.
    private static func plan(desired declared: DesiredState, actual: ClusterState, deploymentCount: Int,
                             base: PlanBase, target: String, now: Date) -> Plan {
        let config = actual.config
        var warnings: [String] = []
        var errors: [String] = []

        // Expired jobs are undeployed and removed, with every deployment that runs them.
        var desired = declared
        var expiredDeployments: Set<String> = []
        for (id, job) in declared.jobs.sorted(by: { $0.key < $1.key }) {
            guard let expires = job.expires, expires <= now else { continue }
            desired.jobs[id] = nil
            let users = declared.deployments.values.filter { $0.jobID == id }.map(\.name).sorted()
            for name in users { desired.deployments[name] = nil }
            expiredDeployments.formUnion(users)
            warnings.append("job '\(id.nameAndVersion)' expired at \(expires.formatted(.iso8601)): undeployed and removed"
                + (users.isEmpty ? "" : " (deployment \(users.joined(separator: ", ")))"))
        }

        // Deployments git no longer declares: pruned, unless protected, prune is off, or
        // there are more of them than maxPrune allows.
        let undeclared = config.deployments.keys.filter { desired.deployments[$0] == nil }.sorted()
        var kept: [String: Deployment] = [:]
        var pruned: [Deployment] = []
        var expiring: [Deployment] = []
        for name in undeclared {
            let deployment = config.deployments[name]!
            if expiredDeployments.contains(name) {
                expiring.append(deployment)
            } else if deployment.protect {
                warnings.append("deployment '\(name)' is protected: kept although git no longer declares it")
                kept[name] = deployment
            } else if !desired.settings.prune {
                warnings.append("deployment '\(name)' is no longer declared: kept (prune is off)")
                kept[name] = deployment
            } else {
                pruned.append(deployment)
            }
        }
        let allowed = desired.settings.maxPrune.allowed(of: deploymentCount)
        if pruned.count > allowed {
            errors.append("this change would delete \(pruned.count) of \(deploymentCount) deployments, "
                + "more than maxPrune \(desired.settings.maxPrune) allows (\(allowed)); nothing is applied. To go on, "
                + "raise maxPrune in helios.yaml (default \(SyncSettings().maxPrune)) for this change, or delete fewer "
                + "deployments per commit (a deployment with protect: true is never deleted)")
        }

        // The deployments the cluster will hold, and the tasks they assign, per deployment.
        var wanted = desired.deployments
        for (name, deployment) in kept { wanted[name] = deployment }
        var wantedByDeployment = tasks(of: wanted, hosts: actual.hosts)
        let currentByDeployment = byDeployment(config.tasks, preferring: config.deployments.mapValues(\.jobID))
        // A rollout under way of the job still wanted keeps its hosts: it moves them batch by
        // batch (and follows host changes), whatever else a plan changes meanwhile.
        var underWay: Set<String> = []
        for (name, status) in actual.rollouts where status.state == .rollingOut {
            guard let deployment = wanted[name], deployment.jobID == status.jobID, deployment.goal == .start else { continue }
            wantedByDeployment[name] = currentByDeployment[name] ?? [:]
            underWay.insert(name)
        }

        var changes: [PlanChange] = []
        // Jobs: new ones first, each diffed against the job it succeeds: the same name and
        // version (a change without a version bump), else the job its deployment ran before.
        // Ids are the dictionaries' keys: computing one hashes the job, so it is never redone here.
        var existing: [String: JobID] = [:]
        for id in config.jobs.keys.sorted() where existing[id.nameAndVersion] == nil { existing[id.nameAndVersion] = id }
        var ranBefore: [JobID: JobID] = [:]
        for name in desired.deployments.keys.sorted() {
            let new = desired.deployments[name]!
            if let old = config.deployments[name], ranBefore[new.jobID] == nil { ranBefore[new.jobID] = old.jobID }
        }
        for id in desired.jobs.keys.sorted() where config.jobs[id] == nil {
            let job = desired.jobs[id]!
            var previous: Job?
            if let same = existing[id.nameAndVersion] {
                previous = config.jobs[same]
                warnings.append("job '\(id.nameAndVersion)' changed without a version bump "
                    + "(\(same.hash.prefix(8)) → \(id.hash.prefix(8)))")
            } else if let old = ranBefore[id], old.name == id.name {
                previous = config.jobs[old]
            }
            changes.append(.createJob(job, previous: previous))
        }

        for name in desired.deployments.keys.sorted() {
            let new = desired.deployments[name]!
            // Offline (a git base, an empty cluster) no host is known: saying so of every selector is noise.
            if !new.hostSelector.isEmpty, base.kind != .git, base.kind != .empty,
               !actual.hosts.values.contains(where: { host in new.hostSelector.allSatisfy { $0.matches(host.labels) } }) {
                let selector = new.hostSelector.map(\.description).joined(separator: ", ")
                warnings.append("deployment '\(name)': selector \(selector) matches no known host")
            }
            // Sorted only when a host is down: this runs for every deployment of every plan. One
            // warning per deployment and state, however many hosts.
            let absent = (wantedByDeployment[name] ?? [:]).keys.filter { actual.hosts[$0]?.up != true }
            for (state, hosts) in [("DOWN", absent.filter { actual.hosts[$0] != nil }),
                                   ("not registered", absent.filter { actual.hosts[$0] == nil })] where !hosts.isEmpty {
                warnings.append(hosts.count == 1
                    ? "deployment '\(name)': host \(hosts[0]) is \(state); its task is written and its rollout skips it"
                    : "deployment '\(name)': hosts \(hosts.sorted().joined(separator: ", ")) are \(state); "
                        + "their tasks are written and its rollout skips them")
            }
            let steps = rollout(options: new.rollout, from: currentByDeployment[name] ?? [:], to: wantedByDeployment[name] ?? [:])
            guard let old = config.deployments[name] else {
                changes.append(.createDeployment(new, rollout: steps))
                continue
            }
            let fields = old.sameConfiguration(as: new) ? [] : fieldChanges(old, new)
            guard !fields.isEmpty || !steps.batches.isEmpty else { continue }
            changes.append(.updateDeployment(old: old, new: new, fields: fields,
                                             rollout: steps.batches.isEmpty ? nil : steps))
        }
        for deployment in pruned + expiring {
            changes.append(.removeDeployment(deployment, rollout: rollout(
                options: deployment.rollout, from: currentByDeployment[deployment.name] ?? [:], to: [:])))
        }
        // Jobs no deployment names any more and git no longer declares. Staging says whether a
        // rollout still needs one (its hosts still run it, or a rollback returns to it).
        let named = Set(wanted.values.map(\.jobID))
        for id in config.jobs.keys.sorted() where desired.jobs[id] == nil && !named.contains(id) {
            changes.append(.removeJob(id, afterRollout: false))
        }

        return Plan(base: base, target: target, changes: changes,
                    tasks: uncountedRemovals(config.tasks, counted: currentByDeployment, keeping: underWay)
                        + taskChanges(from: currentByDeployment, to: wantedByDeployment),
                    warnings: warnings, errors: errors)
    }

    /// The cluster that holds exactly `desired` on `hosts`: what applying its plan to an empty
    /// cluster leaves. Offline (`helios plan --base`), no host's labels are known, so selectors
    /// match no host and only named hosts get tasks; without `hosts`, the named hosts are taken
    /// to be UP.
    public static func cluster(declaring desired: DesiredState, hosts: [String: HostState]? = nil) -> ClusterState {
        let hosts = hosts ?? namedHosts(of: desired)
        var config = ClusterConfig(jobs: desired.jobs, deployments: desired.deployments)
        for assigned in tasks(of: desired.deployments, hosts: hosts).values {
            for (host, task) in assigned { config.tasks[host, default: [:]][task.jobID] = task }
        }
        return ClusterState(config: config, hosts: hosts)
    }

    /// The hosts `desired` names explicitly, as UP hosts without labels: what an offline plan assumes.
    public static func namedHosts(of desired: DesiredState) -> [String: HostState] {
        var hosts: [String: HostState] = [:]
        for deployment in desired.deployments.values { for host in deployment.hosts { hosts[host] = HostState() } }
        return hosts
    }

    /// deployment → host → task, as `deployments` assign them on `hosts`. When two deployments
    /// put the same job on one host, the first by name keeps it.
    static func tasks(of deployments: [String: Deployment], hosts: [String: HostState]) -> [String: [String: HostTask]] {
        var deploymentsOfJob: [JobID: Int] = [:]
        for deployment in deployments.values { deploymentsOfJob[deployment.jobID, default: 0] += 1 }
        var claimed: Set<HostJob> = []
        var tasks: [String: [String: HostTask]] = [:]
        tasks.reserveCapacity(deployments.count)
        for name in deployments.keys.sorted() {
            let deployment = deployments[name]!
            let shared = deploymentsOfJob[deployment.jobID]! > 1
            let goal: Goal = deployment.goal == .start ? .start : .stop
            var assigned: [String: HostTask] = [:]
            for host in deployment.targetHosts(among: hosts) {
                // Only a job two deployments share can be claimed twice: track just those.
                if shared && !claimed.insert(HostJob(host: host, job: deployment.jobID)).inserted { continue }
                assigned[host] = HostTask(jobID: deployment.jobID, goal: goal, deployment: name)
            }
            tasks[name] = assigned
        }
        return tasks
    }

    /// deployment → host → task.
    /// Each deployment's task on each host. A host holds two tasks of one deployment only mid-way
    /// through an overlapping rollout (the old one kept until the new one is healthy): the one of
    /// the job the deployment runs (`preferring`) counts, else the greatest id (any fixed choice).
    static func byDeployment(_ tasks: [String: [JobID: HostTask]], preferring current: [String: JobID] = [:])
        -> [String: [String: HostTask]] {
        var result: [String: [String: HostTask]] = [:]
        for (host, jobs) in tasks {
            for task in jobs.values {
                if let counted = result[task.deployment]?[host],
                   counted.jobID == current[task.deployment] || (task.jobID != current[task.deployment] && counted.jobID > task.jobID) {
                    continue
                }
                result[task.deployment, default: [:]][host] = task
            }
        }
        return result
    }

    /// The removal of every task `byDeployment` did not count (an old task an overlapping
    /// rollout kept) once a plan moves its deployment on: only the counted one has a successor.
    /// The deployments of a rollout still under way (`keeping`) keep theirs: it retires them.
    static func uncountedRemovals(_ tasks: [String: [JobID: HostTask]], counted: [String: [String: HostTask]],
                                  keeping: Set<String>) -> [TaskChange] {
        var removals: [(host: String, id: JobID)] = []
        for (host, jobs) in tasks {
            for (id, task) in jobs where counted[task.deployment]?[host]?.jobID != id && !keeping.contains(task.deployment) {
                removals.append((host, id))
            }
        }
        return removals.sorted { ($0.host, $0.id) < ($1.host, $1.id) }.map { .undeploy(host: $0.host, $0.id) }
    }

    /// The batches of a deployment's change: every host whose job changes, in rollout order.
    static func rollout(options: RolloutOptions, from current: [String: HostTask], to wanted: [String: HostTask]) -> Rollout {
        var hosts = Array(current.keys)
        for host in wanted.keys where current[host] == nil { hosts.append(host) }
        let steps = hosts.sorted().compactMap { host in
            current[host]?.jobID == wanted[host]?.jobID
                ? nil : RolloutStep(host: host, from: current[host]?.jobID, to: wanted[host]?.jobID)
        }
        return Rollout(parallelism: max(1, options.parallelism), batches: Rollouts.chunks(steps, size: options.parallelism))
    }

    /// The task writes that take every deployment from its current tasks to its wanted ones:
    /// all removals first, then additions and updates, each in host order.
    static func taskChanges(from current: [String: [String: HostTask]],
                            to wanted: [String: [String: HostTask]]) -> [TaskChange] {
        var removals: [(host: String, id: JobID)] = []
        var writes: [(host: String, task: HostTask, isNew: Bool)] = []
        for name in Set(current.keys).union(wanted.keys) {
            let before = current[name] ?? [:], after = wanted[name] ?? [:]
            for (host, old) in before {
                guard let new = after[host] else {
                    removals.append((host, old.jobID))
                    continue
                }
                if old.jobID != new.jobID {
                    removals.append((host, old.jobID))
                    writes.append((host, new, true))
                } else if old != new {
                    writes.append((host, new, false))
                }
            }
            for (host, new) in after where before[host] == nil { writes.append((host, new, true)) }
        }
        removals.sort { ($0.host, $0.id) < ($1.host, $1.id) }
        writes.sort { ($0.host, $0.task.jobID) < ($1.host, $1.task.jobID) }
        return removals.map { .undeploy(host: $0.host, $0.id) }
            + writes.map { $0.isNew ? .deploy(host: $0.host, $0.task) : .update(host: $0.host, $0.task) }
    }

    /// The fields of a deployment that differ, as people read them.
    static func fieldChanges(_ old: Deployment, _ new: Deployment) -> [FieldChange] {
        var fields: [FieldChange] = []
        func compare(_ field: String, _ a: String, _ b: String) {
            if a != b { fields.append(FieldChange(field: field, old: a, new: b)) }
        }
        compare("job", old.jobID.nameAndVersion == new.jobID.nameAndVersion ? old.jobID.short : old.jobID.nameAndVersion,
                old.jobID.nameAndVersion == new.jobID.nameAndVersion ? new.jobID.short : new.jobID.nameAndVersion)
        compare("hosts", old.hosts.joined(separator: ", "), new.hosts.joined(separator: ", "))
        compare("hostSelector", old.hostSelector.map(\.description).joined(separator: ", "),
                new.hostSelector.map(\.description).joined(separator: ", "))
        compare("goal", old.goal.rawValue, new.goal.rawValue)
        compare("protect", "\(old.protect)", "\(new.protect)")
        compare("rollout.parallelism", "\(old.rollout.parallelism)", "\(new.rollout.parallelism)")
        compare("rollout.overlap", "\(old.rollout.overlap)", "\(new.rollout.overlap)")
        compare("rollout.timeout", Durations.format(old.rollout.timeout), Durations.format(new.rollout.timeout))
        compare("rollout.minHealthy", Durations.format(old.rollout.minHealthy), Durations.format(new.rollout.minHealthy))
        compare("rollout.ignoreFailures", "\(old.rollout.ignoreFailures)", "\(new.rollout.ignoreFailures)")
        compare("rollout.autoRollback", "\(old.rollout.autoRollback)", "\(new.rollout.autoRollback)")
        return fields
    }
}

/// A job on a host.
struct HostJob: Hashable {
    let host: String
    let job: JobID
}
