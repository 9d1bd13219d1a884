import Foundation

/// Where a deployment's rollout stands (`/status/deployments/<name>`). Everything a leader needs
/// to move it on is here, so a master that takes over carries on where the last one stopped:
/// the batches, the batch in progress and when it began, which of its hosts were seen healthy
/// and since when (`minHealthy`), the hosts skipped while DOWN, and the jobs to remove at the end.
public struct RolloutStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case rollingOut = "ROLLING_OUT"
        case done = "DONE"
        case failed = "FAILED"
        case rolledBack = "ROLLED_BACK"
        /// Ended by another change to the deployment (stopped, removed, given a job no rollout brings).
        case superseded = "SUPERSEDED"
    }

    public var deployment: String
    public var state: State
    /// The job being rolled out.
    public var jobID: JobID
    /// The job the deployment ran before: what a rollback returns to.
    public var previousJobID: JobID?
    /// Hosts, batch by batch, in rollout order. DOWN hosts take no batch: they are `skipped`.
    public var batches: [[String]]
    /// The batch in progress (or the last one, once ended).
    public var batch: Int
    /// When the batch in progress was written: its `timeout` counts from here.
    public var batchStartedAt: Date
    /// Hosts of the batch in progress seen RUNNING (healthy), and since when: `minHealthy` counts
    /// from here. Stored as milliseconds since 1970 (ISO 8601 strings here keep whole seconds,
    /// which would cut up to a second off a `minHealthy`).
    public var healthySince: [String: Date]
    /// Hosts given the new job without waiting for them: DOWN (or never registered) when their
    /// turn came. Their agents converge once they are UP.
    public var skipped: [String]
    /// Jobs git no longer declares that the rollout still needed: removed once it is done.
    public var retiring: [JobID]
    /// The revision whose sync started the rollout, when git drives the cluster.
    public var revision: String?
    /// Why it failed or was superseded, naming the host.
    public var error: String?
    /// When it ended.
    public var endedAt: Date?
    /// When it began (nil in statuses an older Helios wrote).
    public var startedAt: Date?
    /// The deployment's rollouts before this one, oldest first, the newest `historyLimit`.
    public var history: [RolloutRecord]

    /// How many earlier rollouts a status keeps.
    public static let historyLimit = 10

    public init(deployment: String, state: State, jobID: JobID, previousJobID: JobID?, batches: [[String]],
                batch: Int = 0, batchStartedAt: Date, healthySince: [String: Date] = [:], skipped: [String] = [],
                retiring: [JobID] = [], revision: String? = nil, error: String? = nil, endedAt: Date? = nil,
                startedAt: Date? = nil, history: [RolloutRecord] = []) {
        self.deployment = deployment
        self.state = state
        self.jobID = jobID
        self.previousJobID = previousJobID
        self.batches = batches
        self.batch = batch
        self.batchStartedAt = batchStartedAt
        self.healthySince = healthySince
        self.skipped = skipped
        self.retiring = retiring
        self.revision = revision
        self.error = error
        self.endedAt = endedAt
        self.startedAt = startedAt
        self.history = history
    }

    /// This rollout as an earlier one of the next: one still running when replaced was superseded.
    public var record: RolloutRecord {
        RolloutRecord(jobID: jobID, previousJobID: previousJobID, state: state == .rollingOut ? .superseded : state,
                      revision: revision, startedAt: startedAt, endedAt: endedAt, error: error)
    }

    /// True when it ended badly: the deployment does not run what it was asked to.
    public var hasFailed: Bool { state == .failed || state == .rolledBack }

    /// The jobs it keeps whether or not a host runs them: the one a rollback returns to and
    /// those it removes when done.
    public var keptJobs: Set<JobID> { Set(retiring + [previousJobID].compactMap(\.self)) }

    enum CodingKeys: String, CodingKey {
        case deployment, state, jobID = "jobId", previousJobID = "previousJobId", batches, batch, batchStartedAt,
             healthySince, skipped, retiring, revision, error, endedAt, startedAt, history
    }

    /// Fields added later default when absent: statuses an older Helios wrote still read.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(deployment: try values.decode(String.self, forKey: .deployment),
                  state: try values.decode(State.self, forKey: .state),
                  jobID: try values.decode(JobID.self, forKey: .jobID),
                  previousJobID: try values.decodeIfPresent(JobID.self, forKey: .previousJobID),
                  batches: try values.decode([[String]].self, forKey: .batches),
                  batch: try values.decodeIfPresent(Int.self, forKey: .batch) ?? 0,
                  batchStartedAt: try values.decode(Date.self, forKey: .batchStartedAt),
                  healthySince: (try values.decodeIfPresent([String: Int64].self, forKey: .healthySince) ?? [:])
                      .mapValues { Date(timeIntervalSince1970: Double($0) / 1000) },
                  skipped: try values.decodeIfPresent([String].self, forKey: .skipped) ?? [],
                  retiring: try values.decodeIfPresent([JobID].self, forKey: .retiring) ?? [],
                  revision: try values.decodeIfPresent(String.self, forKey: .revision),
                  error: try values.decodeIfPresent(String.self, forKey: .error),
                  endedAt: try values.decodeIfPresent(Date.self, forKey: .endedAt),
                  startedAt: try values.decodeIfPresent(Date.self, forKey: .startedAt),
                  history: try values.decodeIfPresent([RolloutRecord].self, forKey: .history) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(deployment, forKey: .deployment)
        try values.encode(state, forKey: .state)
        try values.encode(jobID, forKey: .jobID)
        try values.encodeIfPresent(previousJobID, forKey: .previousJobID)
        try values.encode(batches, forKey: .batches)
        try values.encode(batch, forKey: .batch)
        try values.encode(batchStartedAt, forKey: .batchStartedAt)
        try values.encode(healthySince.mapValues { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }, forKey: .healthySince)
        try values.encode(skipped, forKey: .skipped)
        try values.encode(retiring, forKey: .retiring)
        try values.encodeIfPresent(revision, forKey: .revision)
        try values.encodeIfPresent(error, forKey: .error)
        try values.encodeIfPresent(endedAt, forKey: .endedAt)
        try values.encodeIfPresent(startedAt, forKey: .startedAt)
        if !history.isEmpty { try values.encode(history, forKey: .history) }
    }
}

/// An earlier rollout of a deployment: what it rolled out, from which commit, how it ended.
public struct RolloutRecord: Sendable, Equatable, Codable {
    public var jobID: JobID
    public var previousJobID: JobID?
    public var state: RolloutStatus.State
    public var revision: String?
    public var startedAt: Date?
    public var endedAt: Date?
    public var error: String?

    public init(jobID: JobID, previousJobID: JobID?, state: RolloutStatus.State, revision: String?, startedAt: Date?,
                endedAt: Date?, error: String?) {
        self.jobID = jobID
        self.previousJobID = previousJobID
        self.state = state
        self.revision = revision
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "jobId", previousJobID = "previousJobId", state, revision, startedAt, endedAt, error
    }
}

extension Dictionary where Key == String, Value == RolloutStatus {
    /// The rollouts by deployment once `statuses` are written over them.
    public func merging(_ statuses: [RolloutStatus]) -> [String: RolloutStatus] {
        var result = self
        for status in statuses { result[status.deployment] = status }
        return result
    }
}
