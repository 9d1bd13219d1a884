import Foundation

/// Where a deployment's rollout stands (`/status/deployments/<name>`): the master's rollout
/// controller moves it batch by batch, each batch gated on its hosts running the new job.
public struct RolloutStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case rollingOut = "ROLLING_OUT"
        case done = "DONE"
        case failed = "FAILED"
        case rolledBack = "ROLLED_BACK"
    }

    public var deployment: String
    public var state: State
    /// The job being rolled out.
    public var jobID: JobID
    /// The job the deployment ran before: what a rollback returns to.
    public var previousJobID: JobID?
    /// Hosts, batch by batch, in rollout order.
    public var batches: [[String]]
    /// The batch in progress (or the last one, once ended).
    public var batch: Int
    /// When the batch in progress was written: its `timeout` counts from here.
    public var batchStartedAt: Date
    /// The revision whose sync started the rollout, when git drives the cluster.
    public var revision: String?
    /// Why it failed, naming the host.
    public var error: String?

    public init(deployment: String, state: State, jobID: JobID, previousJobID: JobID?, batches: [[String]],
                batch: Int = 0, batchStartedAt: Date, revision: String? = nil, error: String? = nil) {
        self.deployment = deployment
        self.state = state
        self.jobID = jobID
        self.previousJobID = previousJobID
        self.batches = batches
        self.batch = batch
        self.batchStartedAt = batchStartedAt
        self.revision = revision
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case deployment, state, jobID = "jobId", previousJobID = "previousJobId", batches, batch, batchStartedAt,
             revision, error
    }
}
