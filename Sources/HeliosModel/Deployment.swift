/// Where a job runs (`kind: Deployment`), with its job reference resolved to a `JobID`.
public struct Deployment: Sendable, Equatable, Codable {
    public var name: String
    public var jobID: JobID
    /// The hosts the job runs on, in rollout order (alphanumeric).
    public var hosts: [String]

    public init(name: String, jobID: JobID, hosts: [String]) {
        self.name = name
        self.jobID = jobID
        self.hosts = hosts.sorted()
    }

    enum CodingKeys: String, CodingKey {
        case name, jobID = "jobId", hosts
    }
}

/// What an agent should do with a task.
public enum Goal: String, Sendable, Codable, Equatable {
    case start = "START"
    case stop = "STOP"
    case undeploy = "UNDEPLOY"
}

/// A job assigned to a host (`/config/hosts/<host>/jobs/<jobId>`).
public struct HostTask: Sendable, Equatable, Codable {
    public var jobID: JobID
    public var goal: Goal
    /// The deployment that put the job here.
    public var deployment: String

    public init(jobID: JobID, goal: Goal, deployment: String) {
        self.jobID = jobID
        self.goal = goal
        self.deployment = deployment
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "jobId", goal, deployment
    }
}
