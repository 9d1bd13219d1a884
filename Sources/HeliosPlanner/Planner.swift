import HeliosModel

/// The pure planner: from what git declares and what the cluster holds to the changes that
/// make the cluster match. No I/O, no clock: the same inputs give byte-identical plans.
public enum Planner {
    public static func plan(desired: DesiredState, actual: ClusterState,
                            base: PlanBase, target: String) -> Plan {
        let config = actual.config
        var warnings: [String] = []
        var errors: [String] = []

        // Deployments git no longer declares: pruned, unless protected, prune is off, or
        // there are more of them than maxPrune allows.
        let undeclared = config.deployments.keys.filter { desired.deployments[$0] == nil }.sorted()
        var kept: [String: Deployment] = [:]
        var pruned: [Deployment] = []
        for name in undeclared {
            let deployment = config.deployments[name]!
            if deployment.protect {
                warnings.append("deployment '\(name)' is protected: kept although git no longer declares it")
                kept[name] = deployment
            } else if !desired.settings.prune {
                warnings.append("deployment '\(name)' is no longer declared: kept (prune is off)")
                kept[name] = deployment
            } else {
                pruned.append(deployment)
            }
        }
        let allowed = desired.settings.maxPrune.allowed(of: config.deployments.count)
        if pruned.count > allowed {
            errors.append("this change would delete \(pruned.count) of \(config.deployments.count) deployments, "
                + "more than maxPrune \(desired.settings.maxPrune) allows (\(allowed)); nothing is applied")
        }

        // The deployments the cluster will hold, and the tasks they assign.
        var wanted = desired.deployments
        for (name, deployment) in kept { wanted[name] = deployment }
        let wantedTasks = tasks(of: wanted, hosts: actual.hosts)
        let currentTasks = config.tasks

        var changes: [PlanChange] = []
        // Jobs: new ones first, each diffed against the job of the same name it succeeds.
        let jobsByName = Dictionary(grouping: config.jobs.values, by: \.name)
        for id in desired.jobs.keys.sorted() where config.jobs[id] == nil {
            let job = desired.jobs[id]!
            let previous = jobsByName[job.name]?.sorted { $0.id < $1.id }
                .first { $0.version == job.version } ?? predecessor(of: job, config: config, desired: desired)
            if let previous, previous.version == job.version {
                warnings.append("job '\(job.name):\(job.version)' changed without a version bump "
                    + "(\(previous.id.hash.prefix(8)) → \(id.hash.prefix(8)))")
            }
            changes.append(.createJob(job, previous: previous))
        }

        for name in desired.deployments.keys.sorted() {
            let new = desired.deployments[name]!
            let newHosts = hostsOf(new, in: wantedTasks)
            let selected = actual.hosts.values.contains { host in new.hostSelector.allSatisfy { $0.matches(host.labels) } }
            if !new.hostSelector.isEmpty && !selected {
                let selector = new.hostSelector.map(\.description).joined(separator: ", ")
                warnings.append("deployment '\(name)': selector \(selector) matches no known host")
            }
            for host in newHosts where actual.hosts[host]?.up == false {
                warnings.append("deployment '\(name)': host \(host) is DOWN; its rollout skips it until it is UP")
            }
            guard let old = config.deployments[name] else {
                changes.append(.createDeployment(new, rollout: rollout(name: name, options: new.rollout, hosts: newHosts,
                                                                       from: currentTasks, to: wantedTasks)))
                continue
            }
            let fields = fieldChanges(old, new)
            let steps = rollout(name: name, options: new.rollout, hosts: Set(hostsOf(old, in: currentTasks) + newHosts).sorted(),
                                from: currentTasks, to: wantedTasks)
            guard !fields.isEmpty || !steps.batches.isEmpty else { continue }
            changes.append(.updateDeployment(old: old, new: new, fields: fields,
                                             rollout: steps.batches.isEmpty ? nil : steps))
        }
        for deployment in pruned {
            changes.append(.removeDeployment(deployment, rollout: rollout(
                name: deployment.name, options: deployment.rollout, hosts: hostsOf(deployment, in: currentTasks),
                from: currentTasks, to: wantedTasks)))
        }
        // Jobs no deployment uses any more and git no longer declares.
        let used = Set(wanted.values.map(\.jobID))
        for id in config.jobs.keys.sorted() where desired.jobs[id] == nil && !used.contains(id) {
            let running = currentTasks.values.contains { $0[id] != nil }
            changes.append(.removeJob(id, afterRollout: running))
        }

        return Plan(base: base, target: target, changes: changes,
                    tasks: taskChanges(from: currentTasks, to: wantedTasks),
                    warnings: warnings, errors: errors)
    }

    /// host → job → task, as `deployments` assign them on `hosts`. When two deployments put
    /// the same job on one host, the first by name keeps it.
    static func tasks(of deployments: [String: Deployment], hosts: [String: HostState]) -> [String: [JobID: HostTask]] {
        var tasks: [String: [JobID: HostTask]] = [:]
        for name in deployments.keys.sorted() {
            let deployment = deployments[name]!
            let goal: Goal = deployment.goal == .start ? .start : .stop
            for host in deployment.targetHosts(among: hosts) where tasks[host]?[deployment.jobID] == nil {
                tasks[host, default: [:]][deployment.jobID] = HostTask(jobID: deployment.jobID, goal: goal, deployment: name)
            }
        }
        return tasks
    }

    /// The hosts where `deployment` has a task in `tasks`, in rollout order.
    static func hostsOf(_ deployment: Deployment, in tasks: [String: [JobID: HostTask]]) -> [String] {
        tasks.compactMap { host, jobs in jobs.values.contains { $0.deployment == deployment.name } ? host : nil }.sorted()
    }

    /// The batches of a deployment's change: every host whose task of this deployment changes.
    static func rollout(name: String, options: RolloutOptions, hosts: [String],
                        from current: [String: [JobID: HostTask]], to wanted: [String: [JobID: HostTask]]) -> Rollout {
        var steps: [RolloutStep] = []
        for host in hosts {
            let before = current[host]?.values.first { $0.deployment == name }
            let after = wanted[host]?.values.first { $0.deployment == name }
            if before != after { steps.append(RolloutStep(host: host, from: before?.jobID, to: after?.jobID)) }
        }
        let size = max(1, options.parallelism)
        let batches = stride(from: 0, to: steps.count, by: size).map { Array(steps[$0..<min($0 + size, steps.count)]) }
        return Rollout(parallelism: size, batches: batches)
    }

    /// The job a new job succeeds: the one its deployment ran before.
    static func predecessor(of job: Job, config: ClusterConfig, desired: DesiredState) -> Job? {
        for (name, deployment) in desired.deployments.sorted(by: { $0.key < $1.key }) where deployment.jobID == job.id {
            if let old = config.deployments[name], let previous = config.jobs[old.jobID], previous.name == job.name {
                return previous
            }
        }
        return nil
    }

    static func taskChanges(from current: [String: [JobID: HostTask]],
                            to wanted: [String: [JobID: HostTask]]) -> [TaskChange] {
        var changes: [TaskChange] = []
        let hosts = Set(current.keys).union(wanted.keys).sorted()
        for host in hosts {
            for id in (current[host] ?? [:]).keys.sorted() where wanted[host]?[id] == nil {
                changes.append(.undeploy(host: host, id))
            }
        }
        for host in hosts {
            for (id, task) in (wanted[host] ?? [:]).sorted(by: { $0.key < $1.key }) {
                switch current[host]?[id] {
                case nil: changes.append(.deploy(host: host, task))
                case let existing? where existing != task: changes.append(.update(host: host, task))
                default: break
                }
            }
        }
        return changes
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
