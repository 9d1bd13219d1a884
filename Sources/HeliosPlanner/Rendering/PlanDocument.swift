import Foundation
import HeliosModel

/// The JSON form of a plan. Documented in docs/plan-format.md; bump `formatVersion` on any
/// change that is not a new optional key.
struct PlanDocument: Encodable {
    let formatVersion = Plan.formatVersion
    let base: PlanBase
    let target: String
    let summary: PlanSummary
    let changes: [Change]
    let tasks: [Task]
    let warnings: [String]
    let errors: [String]

    init(_ plan: Plan) {
        base = plan.base
        target = plan.target
        summary = plan.summary
        changes = plan.changes.map(Change.init)
        tasks = plan.tasks.map(Task.init)
        warnings = plan.warnings
        errors = plan.errors
    }

    struct Change: Encodable {
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
    struct JobSpec: Encodable {
        let job: Job

        init(_ job: Job) {
            var masked = job.normalised()
            masked.env = masked.env.map { env in
                Dictionary(uniqueKeysWithValues: env.map { ($0.key, Secrets.isSensitive($0.key) ? "(sensitive)" : $0.value) })
            }
            self.job = masked
        }

        func encode(to encoder: any Encoder) throws {
            try job.encode(to: encoder)
        }
    }

    struct Task: Encodable {
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
