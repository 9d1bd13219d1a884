/// What git declares: every job and every deployment, validated and resolved.
public struct DesiredState: Sendable, Equatable {
    public var jobs: [JobID: Job]
    public var deployments: [String: Deployment]

    public init(jobs: [JobID: Job] = [:], deployments: [String: Deployment] = [:]) {
        self.jobs = jobs
        self.deployments = deployments
    }
}

/// What ZooKeeper holds under `/config`: the cluster's configuration as last applied.
public struct ClusterConfig: Sendable, Equatable {
    public var jobs: [JobID: Job]
    public var deployments: [String: Deployment]
    /// host → job → task.
    public var tasks: [String: [JobID: HostTask]]

    public init(jobs: [JobID: Job] = [:], deployments: [String: Deployment] = [:],
                tasks: [String: [JobID: HostTask]] = [:]) {
        self.jobs = jobs
        self.deployments = deployments
        self.tasks = tasks
    }
}
