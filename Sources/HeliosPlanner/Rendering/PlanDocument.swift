import Foundation
import HeliosModel

/// The JSON form of a plan. Documented in docs/plan-format.md; bump `formatVersion` on any
/// change that is not a new optional key. The API sends it as it is, and a saved plan is read
/// back into it: `hasSameContent(as:)` says whether planning again gives the same writes.
public struct PlanDocument: Codable, Sendable, Equatable {
    public var formatVersion = Plan.formatVersion
    public var base: PlanBase
    public var target: String
    public var summary: PlanSummary
    public var changes: [Change]
    /// The task writes made now.
    public var tasks: [Task]
    /// The task writes later rollout batches make.
    public var pending: [Task]?
    /// The rollouts started: their batches, as written to `/status/deployments`.
    public var rollouts: [RolloutEntry]?
    public var warnings: [String]
    public var errors: [String]

    public init(_ plan: Plan) {
        base = plan.base
        target = plan.target
        summary = plan.summary
        changes = plan.changes.map(Change.init)
        tasks = plan.tasks.map(Task.init)
        pending = plan.pending.isEmpty ? nil : plan.pending.map(Task.init)
        rollouts = plan.rollouts.isEmpty ? nil : plan.rollouts.map(RolloutEntry.init)
        warnings = plan.warnings
        errors = plan.errors
    }

    /// The same writes at the same check index, in the same format: changes, tasks now and
    /// pending, rollouts.
    /// Presentation (`target`, the base's revision and branch, warnings) does not count.
    public func hasSameContent(as other: PlanDocument) -> Bool {
        formatVersion == other.formatVersion && base.checkIndex == other.base.checkIndex
            && changes == other.changes && tasks == other.tasks
            && (pending ?? []) == (other.pending ?? []) && (rollouts ?? []) == (other.rollouts ?? [])
    }

    /// A rollout as the plan starts it; when it was written is not part of the plan.
    public struct RolloutEntry: Codable, Sendable, Equatable {
        public var deployment: String
        public var state: RolloutStatus.State
        public var job: String
        public var previousJob: String?
        public var batches: [[String]]
        public var skipped: [String]?
        public var retiring: [String]?
        public var error: String?

        init(_ status: RolloutStatus) {
            deployment = status.deployment
            state = status.state
            job = status.jobID.description
            previousJob = status.previousJobID?.description
            batches = status.batches
            skipped = status.skipped.isEmpty ? nil : status.skipped
            retiring = status.retiring.isEmpty ? nil : status.retiring.map(\.description)
            error = status.error
        }
    }

    public struct Change: Codable, Sendable, Equatable {
        var type: String
        var job: String?
        var deployment: String?
        var image: String?
        var spec: JobSpec?
        var hosts: [String]?
        var hostSelector: [String]?
        var fields: [FieldChange]?
        var rollout: Rollout?
        var afterRollout: Bool?

        init(_ change: PlanChange) {
            switch change {
            case .createJob(let job, let previous):
                type = "createJob"
                self.job = job.id.description
                image = job.image
                spec = JobSpec(job)
                fields = previous.map { JobDiff.changes(from: $0, to: job) }
            case .createDeployment(let new, let rollout):
                type = "createDeployment"
                deployment = new.name
                job = new.jobID.description
                hosts = new.hosts
                hostSelector = new.hostSelector.map(\.description)
                self.rollout = rollout
            case .updateDeployment(_, let new, let fields, let rollout):
                type = "updateDeployment"
                deployment = new.name
                job = new.jobID.description
                self.fields = fields
                self.rollout = rollout
            case .removeDeployment(let old, let rollout):
                type = "removeDeployment"
                deployment = old.name
                job = old.jobID.description
                self.rollout = rollout
            case .removeJob(let id, let afterRollout):
                type = "removeJob"
                job = id.description
                self.afterRollout = afterRollout
            }
        }
    }

    /// A job as the plan shows it: secret-looking env values replaced by `(sensitive)`.
    public struct JobSpec: Codable, Sendable, Equatable {
        let job: Job

        init(_ job: Job) {
            var masked = job.normalised()
            masked.env = job.masked().env
            self.job = masked
        }

        public init(from decoder: any Decoder) throws {
            job = try Job(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try job.encode(to: encoder)
        }
    }

    public struct Task: Codable, Sendable, Equatable {
        var type: String
        var host: String
        var job: String
        var goal: String?
        var deployment: String?

        init(_ change: TaskChange) {
            switch change {
            case .deploy(let host, let task), .update(let host, let task):
                if case .deploy = change { type = "deploy" } else { type = "update" }
                self.host = host
                job = task.jobID.description
                goal = task.goal.rawValue
                deployment = task.deployment
            case .undeploy(let host, let id):
                type = "undeploy"
                self.host = host
                job = id.description
            }
        }
    }
}
