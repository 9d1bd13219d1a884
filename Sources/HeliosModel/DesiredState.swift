/// What git declares: every job and every deployment, validated and resolved.
public struct DesiredState: Sendable, Equatable {
    public var jobs: [JobID: Job]
    public var deployments: [String: Deployment]
    public var settings: SyncSettings

    public init(jobs: [JobID: Job] = [:], deployments: [String: Deployment] = [:],
                settings: SyncSettings = SyncSettings()) {
        self.jobs = jobs
        self.deployments = deployments
        self.settings = settings
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

/// A snapshot of a cluster, as `GET /v1/state` serves it and `helios plan --state FILE` reads it.
public struct ClusterState: Sendable, Equatable, Codable {
    public static let formatVersion = 1

    public var config: ClusterConfig
    public var hosts: [String: HostState]
    /// The check index the snapshot was read at, for a live cluster.
    public var checkIndex: Int32?
    /// The git revision last applied, when git drives the cluster.
    public var revision: String?
    /// What each host's agent last reported of its tasks: host → job → status.
    public var statuses: [String: [JobID: TaskStatus]]
    /// Each deployment's rollout, as the leader last wrote it, by deployment name.
    public var rollouts: [String: RolloutStatus]

    /// Hosts that registered, and hosts tasks name whose agent never came.
    public var knownHosts: Set<String> { Set(hosts.keys).union(config.tasks.keys) }

    public init(config: ClusterConfig = ClusterConfig(), hosts: [String: HostState] = [:],
                checkIndex: Int32? = nil, revision: String? = nil, statuses: [String: [JobID: TaskStatus]] = [:],
                rollouts: [String: RolloutStatus] = [:]) {
        self.config = config
        self.hosts = hosts
        self.checkIndex = checkIndex
        self.revision = revision
        self.statuses = statuses
        self.rollouts = rollouts
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion, jobs, deployments, tasks, hosts, checkIndex, revision, statuses, rollouts
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        let version = try values.decode(Int.self, forKey: .formatVersion)
        guard version == Self.formatVersion else {
            throw DecodingError.dataCorruptedError(forKey: .formatVersion, in: values,
                                                   debugDescription: "unsupported state format \(version)")
        }
        let jobs = try values.decode([Job].self, forKey: .jobs)
        let deployments = try values.decode([Deployment].self, forKey: .deployments)
        let tasks = try values.decode([String: [HostTask]].self, forKey: .tasks)
        config = ClusterConfig(
            jobs: Dictionary(jobs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            deployments: Dictionary(deployments.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
            tasks: tasks.mapValues { Dictionary($0.map { ($0.jobID, $0) }, uniquingKeysWith: { first, _ in first }) })
        hosts = try values.decode([String: HostState].self, forKey: .hosts)
        checkIndex = try values.decodeIfPresent(Int32.self, forKey: .checkIndex)
        revision = try values.decodeIfPresent(String.self, forKey: .revision)
        let statuses = try values.decodeIfPresent([String: [TaskStatus]].self, forKey: .statuses) ?? [:]
        self.statuses = statuses.mapValues { Dictionary($0.map { ($0.jobID, $0) }, uniquingKeysWith: { first, _ in first }) }
        let rollouts = try values.decodeIfPresent([RolloutStatus].self, forKey: .rollouts) ?? []
        self.rollouts = Dictionary(rollouts.map { ($0.deployment, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(Self.formatVersion, forKey: .formatVersion)
        try values.encode(config.jobs.values.sorted { $0.id < $1.id }, forKey: .jobs)
        try values.encode(config.deployments.values.sorted { $0.name < $1.name }, forKey: .deployments)
        try values.encode(config.tasks.mapValues { $0.values.sorted { $0.jobID < $1.jobID } }, forKey: .tasks)
        try values.encode(hosts, forKey: .hosts)
        try values.encodeIfPresent(checkIndex, forKey: .checkIndex)
        try values.encodeIfPresent(revision, forKey: .revision)
        if !statuses.isEmpty {
            try values.encode(statuses.mapValues { $0.values.sorted { $0.jobID < $1.jobID } }, forKey: .statuses)
        }
        if !rollouts.isEmpty {
            try values.encode(rollouts.values.sorted { $0.deployment < $1.deployment }, forKey: .rollouts)
        }
    }
}

/// What differs between two desired states: the deployments added, removed or changed (by
/// name), the jobs added or removed (a job's id changes with its content), and whether the
/// sync settings changed. What a one-file commit changes is small; the planner can plan just it.
public struct DesiredChange: Sendable, Equatable {
    public var deployments: Set<String>
    public var jobs: Set<JobID>
    public var settings: Bool

    public init(deployments: Set<String> = [], jobs: Set<JobID> = [], settings: Bool = false) {
        self.deployments = deployments
        self.jobs = jobs
        self.settings = settings
    }

    /// Everything that differs from `old` to `new`, found by comparing them in full.
    public init(from old: DesiredState, to new: DesiredState) {
        self.init(settings: old.settings != new.settings)
        for (name, deployment) in old.deployments where new.deployments[name] != deployment { deployments.insert(name) }
        for name in new.deployments.keys where old.deployments[name] == nil { deployments.insert(name) }
        jobs = Set(old.jobs.keys).symmetricDifference(new.jobs.keys)
    }

    public var isEmpty: Bool { deployments.isEmpty && jobs.isEmpty && !settings }
}
