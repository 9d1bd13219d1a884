/// What applying a desired state to a cluster changes: computed by the pure planner,
/// rendered for people and machines, applied by the store in one transaction.
///
/// It is what the master writes: `tasks` and `rollouts` are written now; a rollout's later
/// batches are `pending` (the leader writes them batch by batch, `Rollouts.advance`), and so is
/// the removal of a job a rollout still needs (`removeJob(_, afterRollout: true)`).
public struct Plan: Sendable, Equatable, Codable {
    /// The version of the JSON form (`docs/plan-format.md`).
    public static let formatVersion = 2

    /// What the plan was computed against.
    public var base: PlanBase
    /// What it moves the cluster to: a revision, or a description of a working tree.
    public var target: String
    /// The changes people review, in the order they are applied.
    public var changes: [PlanChange]
    /// The per-host task writes made now: what the changes cause at once, and the first batch
    /// of each rollout.
    public var tasks: [TaskChange]
    /// The task writes later batches make, once the batch before is healthy.
    public var pending: [TaskChange]
    /// Rollouts started or moved on by this plan, written with it (`/status/deployments`).
    public var rollouts: [RolloutStatus]
    public var warnings: [String]
    /// Why the plan must not be applied (e.g. `maxPrune`); empty for an applicable plan.
    public var errors: [String]

    public init(base: PlanBase, target: String, changes: [PlanChange], tasks: [TaskChange],
                pending: [TaskChange] = [], rollouts: [RolloutStatus] = [], warnings: [String] = [],
                errors: [String] = []) {
        self.base = base
        self.target = target
        self.changes = changes
        self.tasks = tasks
        self.pending = pending
        self.rollouts = rollouts
        self.warnings = warnings
        self.errors = errors
    }

    /// True when the cluster already matches.
    public var isEmpty: Bool { changes.isEmpty && tasks.isEmpty && rollouts.isEmpty }

    public var summary: PlanSummary {
        var summary = PlanSummary()
        var removedJobs: Set<JobID> = []
        for change in changes {
            switch change {
            case .createJob, .createDeployment: summary.add += 1
            case .updateDeployment: summary.change += 1
            case .removeJob(let id, _):
                summary.remove += 1
                removedJobs.insert(id)
            case .removeDeployment: summary.remove += 1
            }
        }
        let replaced = changes.filter {
            if case .createJob(_, let previous?) = $0 { return removedJobs.contains(previous.id) }
            return false
        }.count
        summary.replace = replaced > 0 ? replaced : nil
        return summary
    }
}

/// What a plan was computed against.
public struct PlanBase: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// The manifests of a git revision.
        case git
        /// A state snapshot file.
        case state
        /// A live cluster.
        case cluster
        /// Nothing: every declared thing is new.
        case empty
    }

    public var kind: Kind
    public var revision: String?
    public var branch: String?
    /// The check index of a live cluster: applying is refused once it moved.
    public var checkIndex: Int32?

    public init(kind: Kind, revision: String? = nil, branch: String? = nil, checkIndex: Int32? = nil) {
        self.kind = kind
        self.revision = revision
        self.branch = branch
        self.checkIndex = checkIndex
    }
}

/// The counts of a plan's summary line.
public struct PlanSummary: Sendable, Equatable, Codable {
    public var add: Int
    public var change: Int
    public var remove: Int
    /// Jobs replaced by a new version of the same name (each also counted in `add` and
    /// `remove`); absent when none.
    public var replace: Int?

    public init(add: Int = 0, change: Int = 0, remove: Int = 0, replace: Int? = nil) {
        self.add = add
        self.change = change
        self.remove = remove
        self.replace = replace
    }

    /// The counts as people read them: a replacement once, not as an addition and a removal.
    public var counted: (add: Int, change: Int, remove: Int, replace: Int) {
        let replaced = replace ?? 0
        return (add - replaced, change, remove - replaced, replaced)
    }
}

/// One change people review.
public enum PlanChange: Sendable, Equatable, Codable {
    /// A new job; `previous` is the job of the same name it replaces, if any (for the field diff).
    case createJob(Job, previous: Job?)
    case createDeployment(Deployment, rollout: Rollout)
    case updateDeployment(old: Deployment, new: Deployment, fields: [FieldChange], rollout: Rollout?)
    case removeDeployment(Deployment, rollout: Rollout)
    /// `afterRollout`: a rollout still needs the job; the leader removes it when the rollout is done.
    case removeJob(JobID, afterRollout: Bool)
}

/// One field of a deployment or job, before and after. Sensitive values are never carried.
public struct FieldChange: Sendable, Equatable, Codable {
    public var field: String
    public var old: String?
    public var new: String?
    /// The values are secret-looking: render `(sensitive)` instead.
    public var sensitive: Bool

    public init(field: String, old: String?, new: String?, sensitive: Bool = false) {
        self.field = field
        self.old = sensitive ? nil : old
        self.new = sensitive ? nil : new
        self.sensitive = sensitive
    }
}

/// The batches a deployment change rolls through, in order.
public struct Rollout: Sendable, Equatable, Codable {
    public var parallelism: Int
    public var batches: [[RolloutStep]]
    /// Hosts written at once without waiting for them: DOWN or not registered.
    public var skipped: [RolloutStep]

    public init(parallelism: Int, batches: [[RolloutStep]], skipped: [RolloutStep] = []) {
        self.parallelism = parallelism
        self.batches = batches
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey { case parallelism, batches, skipped }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(parallelism: try values.decode(Int.self, forKey: .parallelism),
                  batches: try values.decode([[RolloutStep]].self, forKey: .batches),
                  skipped: try values.decodeIfPresent([RolloutStep].self, forKey: .skipped) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(parallelism, forKey: .parallelism)
        try values.encode(batches, forKey: .batches)
        if !skipped.isEmpty { try values.encode(skipped, forKey: .skipped) }
    }
}

/// One host of a rollout batch: the job it runs before and after (nil: none).
public struct RolloutStep: Sendable, Equatable, Codable {
    public var host: String
    public var from: JobID?
    public var to: JobID?

    public init(host: String, from: JobID?, to: JobID?) {
        self.host = host
        self.from = from
        self.to = to
    }
}

/// One task assignment written under `/config/hosts/<host>/jobs`.
public enum TaskChange: Sendable, Equatable, Codable {
    case deploy(host: String, HostTask)
    case update(host: String, HostTask)
    case undeploy(host: String, JobID)
}

extension Plan {
    /// The plan as it may be kept and shown: every job's secret env values masked (`Job.masked()`);
    /// field changes never carried them.
    public func masked() -> Plan {
        var plan = self
        plan.changes = changes.map { change in
            if case .createJob(let job, let previous) = change { return .createJob(job.masked(), previous: previous?.masked()) }
            return change
        }
        return plan
    }
}
