import HeliosModel

/// The pure planner: from what git declares and what the cluster holds to the steps that
/// make the cluster match. No I/O, no clock: the same inputs give the same plan.
public enum Planner {
    public static func plan(desired: DesiredState, actual: ClusterConfig) -> Plan {
        var actions: [PlanAction] = []

        for id in desired.jobs.keys.sorted() where actual.jobs[id] == nil {
            actions.append(.createJob(desired.jobs[id]!))
        }

        for name in desired.deployments.keys.sorted() {
            let new = desired.deployments[name]!
            switch actual.deployments[name] {
            case nil: actions.append(.createDeployment(new))
            case let old? where old != new: actions.append(.updateDeployment(old: old, new: new))
            default: break
            }
        }

        // Tasks: every host of every deployment runs the deployment's job.
        let wanted = desiredTasks(desired)
        let hosts = Set(wanted.keys).union(actual.tasks.keys).sorted()
        for host in hosts {
            let want = wanted[host] ?? [:]
            let have = actual.tasks[host] ?? [:]
            for id in have.keys.sorted() where want[id] == nil {
                actions.append(.undeployTask(host: host, id))
            }
        }
        for host in hosts {
            let want = wanted[host] ?? [:]
            let have = actual.tasks[host] ?? [:]
            for id in want.keys.sorted() {
                switch have[id] {
                case nil: actions.append(.deployTask(host: host, want[id]!))
                case let task? where task != want[id]!: actions.append(.updateTask(host: host, want[id]!))
                default: break
                }
            }
        }

        for name in actual.deployments.keys.sorted() where desired.deployments[name] == nil {
            actions.append(.removeDeployment(name))
        }
        for id in actual.jobs.keys.sorted() where desired.jobs[id] == nil {
            actions.append(.removeJob(id))
        }
        return Plan(actions: actions)
    }

    /// host → job → task, as the desired deployments assign them. When two deployments put
    /// the same job on one host, the first by name keeps it.
    static func desiredTasks(_ desired: DesiredState) -> [String: [JobID: HostTask]] {
        var tasks: [String: [JobID: HostTask]] = [:]
        for name in desired.deployments.keys.sorted() {
            let deployment = desired.deployments[name]!
            for host in deployment.hosts where tasks[host]?[deployment.jobID] == nil {
                tasks[host, default: [:]][deployment.jobID] = HostTask(jobID: deployment.jobID, goal: .start, deployment: name)
            }
        }
        return tasks
    }
}
