/// Where and how a job runs (`kind: Deployment`, Helios' deployment group), with its job
/// reference resolved to a `JobID`.
public struct Deployment: Sendable, Equatable, Codable {
    public var name: String
    public var jobID: JobID
    /// Hosts named explicitly, sorted (the rollout order).
    public var hosts: [String]
    /// Every selector must match a host's labels.
    public var hostSelector: [HostSelector]
    public var goal: DeploymentGoal
    /// A protected deployment is never pruned.
    public var protect: Bool
    public var rollout: RolloutOptions
    /// Where git declares it, when it came from git.
    public var source: Source?

    public init(name: String, jobID: JobID, hosts: [String], hostSelector: [HostSelector] = [],
                goal: DeploymentGoal = .start, protect: Bool = false, rollout: RolloutOptions = RolloutOptions(),
                source: Source? = nil) {
        self.name = name
        self.jobID = jobID
        self.hosts = Array(Set(hosts)).sorted()
        self.hostSelector = hostSelector
        self.goal = goal
        self.protect = protect
        self.rollout = rollout
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case name, jobID = "jobId", hosts, hostSelector, goal, protect, rollout, source
    }

    /// Fields added after the first release default when absent, so that deployments an
    /// older Helios wrote to ZooKeeper still read.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try values.decode(String.self, forKey: .name),
                  jobID: try values.decode(JobID.self, forKey: .jobID),
                  hosts: try values.decodeIfPresent([String].self, forKey: .hosts) ?? [],
                  hostSelector: try values.decodeIfPresent([HostSelector].self, forKey: .hostSelector) ?? [],
                  goal: try values.decodeIfPresent(DeploymentGoal.self, forKey: .goal) ?? .start,
                  protect: try values.decodeIfPresent(Bool.self, forKey: .protect) ?? false,
                  rollout: try values.decodeIfPresent(RolloutOptions.self, forKey: .rollout) ?? RolloutOptions(),
                  source: try values.decodeIfPresent(Source.self, forKey: .source))
    }

    /// The hosts this deployment runs on among `known` hosts, in rollout order: the explicit
    /// ones (known or not) and every known host its selectors match.
    public func targetHosts(among known: [String: HostState]) -> [String] {
        if hostSelector.isEmpty { return hosts } // sorted at init
        var targets = Set(hosts)
        for (name, host) in known where hostSelector.allSatisfy({ $0.matches(host.labels) }) {
            targets.insert(name)
        }
        return targets.sorted()
    }

    /// Equal but for where it was declared.
    public func sameConfiguration(as other: Deployment) -> Bool {
        var a = self, b = other
        a.source = nil
        b.source = nil
        return a == b
    }
}

/// Where a manifest declared something.
public struct Source: Sendable, Equatable, Codable {
    public var file: String
    public var revision: String?

    public init(file: String, revision: String?) {
        self.file = file
        self.revision = revision
    }
}

/// What a deployment wants of its tasks.
public enum DeploymentGoal: String, Sendable, Codable, Equatable {
    case start
    case stop
}

/// How a deployment's changes roll across its hosts.
public struct RolloutOptions: Sendable, Equatable, Codable {
    /// Hosts per batch.
    public var parallelism: Int
    /// Start the new task before stopping the old one on each host.
    public var overlap: Bool
    /// Milliseconds a batch has to reach RUNNING (and healthy).
    public var timeout: Int64
    /// Milliseconds a task must stay healthy before its batch counts.
    public var minHealthy: Int64
    public var ignoreFailures: Bool
    /// On failure, return the deployment to its last good job.
    public var autoRollback: Bool

    public init(parallelism: Int = 1, overlap: Bool = false, timeout: Int64 = 300_000, minHealthy: Int64 = 0,
                ignoreFailures: Bool = false, autoRollback: Bool = true) {
        self.parallelism = parallelism
        self.overlap = overlap
        self.timeout = timeout
        self.minHealthy = minHealthy
        self.ignoreFailures = ignoreFailures
        self.autoRollback = autoRollback
    }

    enum CodingKeys: String, CodingKey {
        case parallelism, overlap, timeout, minHealthy, ignoreFailures, autoRollback
    }

    /// Absent fields take their defaults: a snapshot or node may spell out only some.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RolloutOptions()
        self.init(parallelism: try values.decodeIfPresent(Int.self, forKey: .parallelism) ?? defaults.parallelism,
                  overlap: try values.decodeIfPresent(Bool.self, forKey: .overlap) ?? defaults.overlap,
                  timeout: try values.decodeIfPresent(Int64.self, forKey: .timeout) ?? defaults.timeout,
                  minHealthy: try values.decodeIfPresent(Int64.self, forKey: .minHealthy) ?? defaults.minHealthy,
                  ignoreFailures: try values.decodeIfPresent(Bool.self, forKey: .ignoreFailures) ?? defaults.ignoreFailures,
                  autoRollback: try values.decodeIfPresent(Bool.self, forKey: .autoRollback) ?? defaults.autoRollback)
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

extension Deployment: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.raw("{\"goal\":")
        writer.string(goal.rawValue)
        writer.raw(",\"hostSelector\":[")
        for (index, selector) in hostSelector.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"label\":")
            writer.string(selector.label)
            writer.raw(",\"operator\":")
            writer.string(selector.operator.rawValue)
            writer.raw(",\"values\":")
            writer.strings(selector.values)
            writer.raw("}")
        }
        writer.raw("],\"hosts\":")
        writer.strings(hosts)
        writer.raw(",\"jobId\":")
        writer.string(jobID.description)
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"protect\":")
        writer.bool(protect)
        writer.raw(",\"rollout\":{\"autoRollback\":")
        writer.bool(rollout.autoRollback)
        writer.raw(",\"ignoreFailures\":")
        writer.bool(rollout.ignoreFailures)
        writer.raw(",\"minHealthy\":")
        writer.number(rollout.minHealthy)
        writer.raw(",\"overlap\":")
        writer.bool(rollout.overlap)
        writer.raw(",\"parallelism\":")
        writer.number(rollout.parallelism)
        writer.raw(",\"timeout\":")
        writer.number(rollout.timeout)
        writer.raw("}")
        if let source {
            writer.raw(",\"source\":{\"file\":")
            writer.string(source.file)
            if let revision = source.revision {
                writer.raw(",\"revision\":")
                writer.string(revision)
            }
            writer.raw("}")
        }
        writer.raw("}")
    }
}

extension HostTask: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.raw("{\"deployment\":")
        writer.string(deployment)
        writer.raw(",\"goal\":")
        writer.string(goal.rawValue)
        writer.raw(",\"jobId\":")
        writer.string(jobID.description)
        writer.raw("}")
    }
}
