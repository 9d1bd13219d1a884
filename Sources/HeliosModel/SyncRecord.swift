/// The master's account of the git sync (`/sync/state`), in Flux's terms: the revision last
/// applied and the revision last attempted, a status derived from the cluster, and a
/// machine-readable reason beside the human summary.
public struct SyncRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case synced = "SYNCED"
        case outOfSync = "OUT_OF_SYNC"
        case failed = "FAILED"
        case progressing = "PROGRESSING"
    }

    /// Why the record says what it says; stable for machines.
    public enum Reason: String, Sendable, Codable {
        /// The applied revision's changes are written and every rollout they started is done.
        case applied = "Applied"
        /// Rollouts of the applied revision are under way.
        case rollingOut = "RollingOut"
        /// A rollout of the applied revision failed or was rolled back.
        case rolloutFailed = "RolloutFailed"
        /// The attempted revision's manifests are invalid: nothing of it was applied.
        case invalidManifests = "InvalidManifests"
        /// The attempted revision's plan was refused (e.g. `maxPrune`): nothing of it was applied.
        case planRefused = "PlanRefused"
        /// Other writers kept changing the cluster while the revision was applied; it will be tried again.
        case conflict = "Conflict"
        /// ZooKeeper refused the writes for another reason; it will be tried again.
        case applyFailed = "ApplyFailed"
        /// The cluster differs from the applied revision and `selfHeal` is off.
        case drift = "Drift"
        /// Changes made outside git were reverted.
        case selfHealed = "SelfHealed"
        /// Hosts joined or left a deployment's selector, or went UP: their tasks follow.
        case placement = "HostsChanged"
        /// Jobs reached their `expires` and were undeployed and removed.
        case expired = "JobsExpired"
        /// The repository could not be fetched (or did not answer in time): nothing new is seen.
        case fetchFailed = "FetchFailed"
        /// The branch head is unsigned, or not signed by a key the master trusts: nothing applied.
        case unverifiedCommit = "UnverifiedCommit"
    }

    public var repo: String
    public var branch: String
    /// The revision last applied.
    public var lastAppliedRevision: String?
    /// The revision last tried, applied or not.
    public var lastAttemptedRevision: String?
    public var status: Status
    public var reason: Reason
    /// When the last applied revision was applied (ISO 8601).
    public var appliedAt: String?
    public var summary: String
    /// The manifest diagnostics of a refused revision (`file:line:column: error: …`), or the
    /// changes found as drift.
    public var diagnostics: [String]
    /// What differs from git (drift) or what was reverted: the plan's changes, typed.
    public var changes: [PlanOutline.Entry]

    public init(repo: String, branch: String, lastAppliedRevision: String?, lastAttemptedRevision: String?,
                status: Status, reason: Reason, appliedAt: String?, summary: String, diagnostics: [String] = [],
                changes: [PlanOutline.Entry] = []) {
        self.repo = repo
        self.branch = branch
        self.lastAppliedRevision = lastAppliedRevision
        self.lastAttemptedRevision = lastAttemptedRevision
        self.status = status
        self.reason = reason
        self.appliedAt = appliedAt
        self.summary = summary
        self.diagnostics = diagnostics
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case repo, branch, lastAppliedRevision, lastAttemptedRevision, status, reason, appliedAt, summary, diagnostics,
             changes
        case revision, lastAttempt // as an older Helios wrote them
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        let status = try values.decode(Status.self, forKey: .status)
        self.init(repo: try values.decode(String.self, forKey: .repo),
                  branch: try values.decode(String.self, forKey: .branch),
                  lastAppliedRevision: try values.decodeIfPresent(String.self, forKey: .lastAppliedRevision)
                      ?? values.decodeIfPresent(String.self, forKey: .revision),
                  lastAttemptedRevision: try values.decodeIfPresent(String.self, forKey: .lastAttemptedRevision)
                      ?? values.decodeIfPresent(String.self, forKey: .lastAttempt),
                  status: status,
                  reason: try values.decodeIfPresent(Reason.self, forKey: .reason)
                      ?? (status == .failed ? .applyFailed : status == .progressing ? .rollingOut : .applied),
                  appliedAt: try values.decodeIfPresent(String.self, forKey: .appliedAt),
                  summary: try values.decodeIfPresent(String.self, forKey: .summary) ?? "",
                  diagnostics: try values.decodeIfPresent([String].self, forKey: .diagnostics) ?? [],
                  changes: try values.decodeIfPresent([PlanOutline.Entry].self, forKey: .changes) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(repo, forKey: .repo)
        try values.encode(branch, forKey: .branch)
        try values.encodeIfPresent(lastAppliedRevision, forKey: .lastAppliedRevision)
        try values.encodeIfPresent(lastAttemptedRevision, forKey: .lastAttemptedRevision)
        try values.encode(status, forKey: .status)
        try values.encode(reason, forKey: .reason)
        try values.encodeIfPresent(appliedAt, forKey: .appliedAt)
        try values.encode(summary, forKey: .summary)
        try values.encode(diagnostics, forKey: .diagnostics)
        if !changes.isEmpty { try values.encode(changes, forKey: .changes) }
    }

    /// The most diagnostics and changes a record carries: it is one ZooKeeper node (at most
    /// 1 MB), and a plan of 10,000 deployments may warn about every one of them.
    public static let listLimit = 100

    /// The record with its lists cut to `listLimit`, saying how many more there were.
    public func bounded() -> SyncRecord {
        var record = self
        if diagnostics.count > Self.listLimit {
            record.diagnostics = Array(diagnostics.prefix(Self.listLimit))
                + ["… and \(diagnostics.count - Self.listLimit) more"]
        }
        if changes.count > Self.listLimit {
            record.changes = Array(changes.prefix(Self.listLimit))
            record.diagnostics.append("… and \(changes.count - Self.listLimit) more changes")
        }
        return record
    }

    /// The record once the applied revision's rollouts, as `rollouts` holds them, are taken into
    /// account: PROGRESSING while one runs, FAILED (with its reason) once one failed or was rolled
    /// back, else SYNCED. Records of a refused revision or of drift are left as they are.
    public func settled(by rollouts: [String: RolloutStatus]) -> SyncRecord {
        guard [.applied, .rollingOut, .rolloutFailed, .selfHealed, .placement, .expired].contains(reason),
              let revision = lastAppliedRevision else { return self }
        let own = rollouts.values.filter { $0.revision == revision }.sorted { $0.deployment < $1.deployment }
        var record = self
        if let failed = own.first(where: \.hasFailed) {
            record.status = .failed
            record.reason = .rolloutFailed
            record.summary = failed.error ?? "rollout of \(failed.deployment) failed"
            record.diagnostics = own.filter(\.hasFailed).compactMap(\.error)
        } else if own.contains(where: { $0.state == .rollingOut }) {
            record.status = .progressing
            if record.reason == .applied || record.reason == .rolloutFailed { record.reason = .rollingOut }
        } else {
            record.status = .synced
            if record.reason == .rollingOut || record.reason == .rolloutFailed { record.reason = .applied }
        }
        return record
    }
}

/// A plan's changes as plain values, for records and replies that carry them (drift, a revert).
public enum PlanOutline {
    public struct Entry: Sendable, Equatable, Codable {
        /// `createJob`, `createDeployment`, `updateDeployment`, `removeDeployment`, `removeJob`,
        /// `deploy`, `update`, `undeploy` (a task).
        public var action: String
        /// The job id or deployment name.
        public var subject: String
        /// The host, for a task.
        public var host: String?
        public var fields: [FieldChange]

        public init(action: String, subject: String, host: String? = nil, fields: [FieldChange] = []) {
            self.action = action
            self.subject = subject
            self.host = host
            self.fields = fields
        }
    }

    /// Every change and task write of `plan`, in order.
    public static func entries(of plan: Plan) -> [Entry] {
        var entries: [Entry] = plan.changes.map { change in
            switch change {
            case .createJob(let job, _): Entry(action: "createJob", subject: job.id.description)
            case .createDeployment(let deployment, _): Entry(action: "createDeployment", subject: deployment.name)
            case .updateDeployment(_, let new, let fields, _): Entry(action: "updateDeployment", subject: new.name, fields: fields)
            case .removeDeployment(let deployment, _): Entry(action: "removeDeployment", subject: deployment.name)
            case .removeJob(let id, _): Entry(action: "removeJob", subject: id.description)
            }
        }
        for task in plan.tasks + plan.pending {
            switch task {
            case .deploy(let host, let task): entries.append(Entry(action: "deploy", subject: task.jobID.description, host: host))
            case .update(let host, let task): entries.append(Entry(action: "update", subject: task.jobID.description, host: host))
            case .undeploy(let host, let id): entries.append(Entry(action: "undeploy", subject: id.description, host: host))
            }
        }
        return entries
    }
}
