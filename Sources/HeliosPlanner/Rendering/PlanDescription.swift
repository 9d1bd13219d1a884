import Foundation
import HeliosModel

/// A plan as people read it, shared by the text and markdown renderers: one entry per
/// change, with a marker, a subject and detail lines.
struct PlanDescription {
    enum Marker: String {
        case add = "+"
        case change = "~"
        case remove = "-"
    }

    struct Entry {
        var marker: Marker
        /// `job web:1.4.3:8f2a91c0`, `deployment web-prod`.
        var subject: String
        /// Shown beside the subject.
        var headline: String
        /// Shown below it.
        var details: [String]
    }

    var header: String
    var entries: [Entry]
    var summary: String

    init(_ plan: Plan) {
        header = Printable.escape("\(Self.describe(plan.base)) → \(Self.shorten(plan.target))", limit: 200)
        entries = plan.changes.map { Self.entry($0, in: plan) }.map { entry in
            // Names and values come from manifests: nothing in them may steer a terminal.
            Entry(marker: entry.marker, subject: Printable.escape(entry.subject, limit: 200),
                  headline: Printable.escape(entry.headline, limit: 200), details: entry.details.map { Printable.escape($0, limit: 400) })
        }
        summary = Self.summary(plan.summary)
    }

    /// `0 to add, 1 to change, 0 to remove, 1 to replace.`: a job replaced by its new version
    /// counts once, as a replacement, not as an addition and a removal.
    static func summary(_ summary: PlanSummary) -> String {
        let counts = summary.counted
        var text = "\(counts.add) to add, \(counts.change) to change, \(counts.remove) to remove"
        if counts.replace > 0 { text += ", \(counts.replace) to replace" }
        return text + "."
    }

    static func describe(_ base: PlanBase) -> String {
        switch base.kind {
        case .git:
            let revision = base.revision.map(shorten) ?? "?"
            return base.branch.map { "\(revision) (\($0))" } ?? revision
        case .state:
            return "state snapshot" + (base.revision.map { " at \(shorten($0))" } ?? "")
                + (base.checkIndex.map { " (check index \($0))" } ?? "")
        case .cluster:
            return "cluster" + (base.revision.map { " at \(shorten($0))" } ?? "")
                + (base.checkIndex.map { " (check index \($0))" } ?? "")
        case .empty:
            return "empty cluster"
        }
    }

    /// Git ids are cut to 7 digits; anything else is kept.
    static func shorten(_ text: String) -> String {
        text.count == 40 && text.allSatisfy(\.isHexDigit) ? String(text.prefix(7)) : text
    }

    static func entry(_ change: PlanChange, in plan: Plan) -> Entry {
        switch change {
        case .createJob(let job, let previous):
            let fields = previous.map { JobDiff.changes(from: $0, to: job) } ?? []
            return Entry(marker: .add, subject: "job \(job.id.short)", headline: "image \(job.image)",
                         details: fields.map(describe))
        case .createDeployment(let deployment, let rollout):
            var details = target(deployment)
            if let line = describe(rollout) { details.append(line) }
            if let line = stops(deployment, in: plan) { details.append(line) }
            return Entry(marker: .add, subject: "deployment \(deployment.name)",
                         headline: "job \(deployment.jobID.nameAndVersion)", details: details)
        case .updateDeployment(_, let new, let fields, let rollout):
            var lines = fields.map(describe)
            let headline = lines.isEmpty ? "hosts change" : lines.removeFirst()
            if let rollout, let line = describe(rollout) { lines.append(line) }
            if let line = stops(new, in: plan) { lines.append(line) }
            return Entry(marker: .change, subject: "deployment \(new.name)", headline: headline, details: lines)
        case .removeDeployment(let deployment, let rollout):
            // A removal happens at once everywhere: no batches.
            let hosts = (rollout.batches.joined() + rollout.skipped).map(\.host).sorted()
            let details = hosts.isEmpty ? [] : ["its tasks are removed at once from: " + list(hosts)]
            return Entry(marker: .remove, subject: "deployment \(deployment.name)",
                         headline: "job \(deployment.jobID.nameAndVersion)", details: details)
        case .removeJob(let id, let afterRollout):
            return Entry(marker: .remove, subject: "job \(id.short)", headline: afterRollout ? "after rollout" : "", details: [])
        }
    }

    /// What `goal: stop` does on each host: the containers it stops, now.
    static func stops(_ deployment: Deployment, in plan: Plan) -> String? {
        guard deployment.goal == .stop else { return nil }
        let hosts = plan.tasks.compactMap { change -> String? in
            switch change {
            case .deploy(let host, let task), .update(let host, let task):
                task.deployment == deployment.name && task.goal == .stop ? host : nil
            case .undeploy: nil
            }
        }.sorted()
        return hosts.isEmpty ? nil : "stops its container (kept, not removed) on: " + list(hosts)
    }

    /// Host names, cut after 10.
    static func list(_ hosts: [String]) -> String {
        hosts.count <= 10 ? hosts.joined(separator: ", ") : hosts.prefix(10).joined(separator: ", ") + " and \(hosts.count - 10) more"
    }

    static func target(_ deployment: Deployment) -> [String] {
        var lines: [String] = []
        if !deployment.hosts.isEmpty { lines.append("hosts: \(deployment.hosts.joined(separator: ", "))") }
        if !deployment.hostSelector.isEmpty {
            lines.append("hostSelector: \(deployment.hostSelector.map(\.description).joined(separator: ", "))")
        }
        if deployment.goal == .stop { lines.append("goal: stop") }
        if deployment.protect { lines.append("protect: true") }
        return lines
    }

    static func describe(_ field: FieldChange) -> String {
        if field.sensitive { return "\(field.field) (sensitive) changed" }
        return "\(field.field) \(field.old ?? "(none)") → \(field.new ?? "(none)")"
    }

    /// `rollout 2 batches (parallelism 1): agent-1 | agent-2`; long lists are cut.
    static func describe(_ rollout: Rollout) -> String? {
        let skipped = rollout.skipped.isEmpty ? ""
            : "; at once, not waited for (DOWN or not registered): " + rollout.skipped.map(\.host).joined(separator: ", ")
        guard !rollout.batches.isEmpty else { return skipped.isEmpty ? nil : "rollout: none" + skipped }
        let batches = rollout.batches.map { $0.map(\.host).joined(separator: ", ") }
        let shown = batches.count > 8 ? batches.prefix(4) + ["…"] + batches.suffix(2) : batches[...]
        let count = rollout.batches.count
        return "rollout \(count) batch\(count == 1 ? "" : "es") (parallelism \(rollout.parallelism)): "
            + shown.joined(separator: " | ") + skipped
    }
}

/// The fields of a job that changed, as `env.LOG_LEVEL info → debug`; secret-looking env
/// values never appear, only that they changed.
enum JobDiff {
    static func changes(from old: Job, to new: Job) -> [FieldChange] {
        let before = flatten(old), after = flatten(new)
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            guard before[key] != after[key] else { return nil }
            let name = String(key.dropFirst(4))
            if key.hasPrefix("env."), old.secrets?[name] != nil || new.secrets?[name] != nil {
                // A reference is shown (`(secret db-password)`); a plain secret value on the other side is not.
                func shown(_ job: Job, _ value: String?) -> String? {
                    job.secrets?[name] == nil && job.isSensitive(name) && value != nil ? Secrets.mask : value
                }
                return FieldChange(field: key, old: shown(old, before[key]), new: shown(new, after[key]))
            }
            let sensitive = key.hasPrefix("env.") && (old.isSensitive(name) || new.isSensitive(name))
            // A snapshot from the API masks secrets: one side masked cannot be compared.
            if sensitive && (before[key] == Secrets.mask || after[key] == Secrets.mask) { return nil }
            return FieldChange(field: key, old: sensitive ? nil : before[key], new: sensitive ? nil : after[key], sensitive: sensitive)
        }
    }

    /// The normalised job as `path → value`, nested objects joined with dots.
    static func flatten(_ job: Job) -> [String: String] {
        var job = job.normalised()
        job.name = ""
        job.version = ""
        guard let object = try? JSONSerialization.jsonObject(with: CanonicalJSON.encode(job)) as? [String: Any] else { return [:] }
        var result: [String: String] = [:]
        func walk(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, inner) in dictionary { walk(inner, path.isEmpty ? key : "\(path).\(key)") }
            } else if let array = value as? [Any] {
                result[path] = array.map { "\($0)" }.joined(separator: " ")
            } else {
                result[path] = "\(value)"
            }
        }
        walk(object, "")
        result["name"] = nil
        result["version"] = nil
        for (name, secret) in job.secrets ?? [:] {
            result["secrets.\(name)"] = nil
            result["env.\(name)"] = "(secret \(secret))"
        }
        // Sizes and durations as people write them, not in bytes and milliseconds.
        for key in ["resources.memory", "resources.memorySwap"] {
            if let text = result[key], let bytes = Int64(text), bytes > 0 { result[key] = Sizes.format(bytes) }
        }
        for key in ["gracePeriod", "stopTimeout"] {
            if let text = result[key], let milliseconds = Int64(text), milliseconds > 0 { result[key] = Durations.format(milliseconds) }
        }
        return result
    }
}
