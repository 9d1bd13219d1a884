import Foundation
import HeliosModel

/// Renders plans: text for terminals and logs, JSON for machines, markdown for pull requests,
/// an HTML fragment for the dashboard.
public enum PlanRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case text, json, markdown, html
    }

    /// `notes`: the text form lists the warnings and errors too (false when they were printed
    /// on their own, to standard error).
    public static func render(_ plan: Plan, as format: Format, color: Bool = false, notes: Bool = true) -> String {
        switch format {
        case .text: text(plan, color: color, notes: notes)
        case .json: json(plan)
        case .markdown: markdown(plan)
        case .html: html(plan)
        }
    }

    // MARK: HTML

    /// The text form's entries as an HTML fragment (escaped; secrets masked as everywhere):
    /// a `<section class="plan">` with the header, summary, notes and one item per change.
    public static func html(_ plan: Plan) -> String {
        let description = PlanDescription(plan)
        var lines = ["<section class=\"plan\">", "<h3>Plan: \(escape(description.header))</h3>",
                     "<p><strong data-test=\"plan-summary\">\(escape(description.summary))</strong></p>"]
        let notes = grouped(plan.errors).map { "<li class=\"plan-error\">Error: \(escape($0))</li>" }
            + grouped(plan.warnings).map { "<li class=\"plan-warning\">Warning: \(escape($0))</li>" }
        if !notes.isEmpty { lines += ["<ul class=\"plan-notes\">"] + notes + ["</ul>"] }
        if plan.isEmpty { lines.append("<p>\(escape(emptyNote(plan)))</p>") }
        lines.append("<ul class=\"plan-changes\">")
        for entry in description.entries {
            let kind = switch entry.marker {
            case .add: "add"
            case .change: "change"
            case .remove: "remove"
            }
            var item = "<li class=\"plan-\(kind)\"><span class=\"marker\" aria-label=\"\(kind)\">\(entry.marker.rawValue)</span> "
                + "<code>\(escape(entry.subject))</code>" + (entry.headline.isEmpty ? "" : " \(escape(entry.headline))")
            if !entry.details.isEmpty {
                item += "<ul>" + entry.details.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
            }
            lines.append(item + "</li>")
        }
        lines += ["</ul>", "</section>"]
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        Printable.escape(text, limit: 2000).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: Text

    /// Terraform/Nomad-style markers and a summary line; ANSI colour only when asked.
    public static func text(_ plan: Plan, color: Bool = false, notes: Bool = true) -> String {
        let description = PlanDescription(plan)
        let paint = Paint(enabled: color)
        var lines = ["Plan: \(description.header)"]
        for entry in description.entries {
            let left = "  \(entry.marker.rawValue) \(entry.subject)"
            let padded = entry.headline.isEmpty ? left : left.padding(toLength: max(46, left.count + 2), withPad: " ", startingAt: 0) + entry.headline
            lines.append(paint(padded, entry.marker))
            lines += entry.details.map { "      \($0)" }
        }
        if plan.isEmpty { lines.append("  " + emptyNote(plan)) }
        if notes {
            lines += grouped(plan.warnings).map { paint.warning("Warning: \($0)") }
            lines += grouped(plan.errors).map { paint.error("Error: \($0)") }
        }
        lines.append("Plan: \(description.summary)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Notes with repeats counted once: `(×111) deployment 'x': …`; control characters escaped.
    public static func grouped(_ notes: [String]) -> [String] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for note in notes {
            if counts[note] == nil { order.append(note) }
            counts[note, default: 0] += 1
        }
        return order.map { note in
            let safe = Printable.escape(note, limit: 2000)
            return counts[note]! > 1 ? "(×\(counts[note]!)) " + safe : safe
        }
    }

    // MARK: Markdown

    /// The most characters a markdown plan takes: a GitHub comment holds 65,536.
    public static let markdownLimit = 60_000

    /// A pull-request comment: the summary first, then errors and warnings (a cut never hides
    /// them), then one collapsed section per change; cut below `markdownLimit` characters with a
    /// note pointing at the full plan.
    public static func markdown(_ plan: Plan) -> String {
        let description = PlanDescription(plan)
        var lines = ["### Helios plan: \(cell(description.header))", "", "**\(description.summary)**", ""]
        let notes = grouped(plan.errors).map { "> ⛔ **Error:** \(cell($0))" } + grouped(plan.warnings).map { "> ⚠️ **Warning:** \(cell($0))" }
        if !notes.isEmpty { lines += notes + [""] }
        if plan.isEmpty {
            lines.append(emptyNote(plan))
            return lines.joined(separator: "\n") + "\n"
        }
        var length = lines.reduce(0) { $0 + $1.count + 1 }
        let groups = sections(plan, description)
        for (index, group) in groups.enumerated() {
            let (first, rest) = (group[0], group.dropFirst())
            let body = first.details.map { "- " + cell($0) }
                + rest.flatMap { entry in ["- " + title(entry)] + entry.details.map { "  - " + cell($0) } }
            let section = body.isEmpty
                ? ["- " + title(first)]
                : ["<details><summary>\(title(first))</summary>", ""] + body + ["", "</details>", ""]
            let size = section.reduce(0) { $0 + $1.count + 1 }
            if length + size > markdownLimit - 300 {
                let left = groups.dropFirst(index).map(\.count).reduce(0, +)
                lines += ["", "_… and \(left) more change\(left == 1 ? "" : "s") not shown: a comment holds so much. "
                    + "The whole plan: `helios plan --format json` (or `--format text`)._"]
                break
            }
            lines += section
            length += size
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func title(_ entry: PlanDescription.Entry) -> String {
        let marker = switch entry.marker {
        case .add: "➕"
        case .change: "🔄"
        case .remove: "➖"
        }
        return "\(marker) **\(cell(entry.subject))**" + (entry.headline.isEmpty ? "" : " — \(cell(entry.headline))")
    }

    /// The entries by deployment: each deployment's change first, then the jobs it brings and
    /// retires; a job no deployment change names is a section of its own.
    static func sections(_ plan: Plan, _ description: PlanDescription) -> [[PlanDescription.Entry]] {
        var owner: [JobID: Int] = [:] // job → the index of the deployment change that uses it
        for (index, change) in plan.changes.enumerated() {
            switch change {
            case .createDeployment(let deployment, _): owner[deployment.jobID] = owner[deployment.jobID] ?? index
            case .updateDeployment(let old, let new, _, _):
                owner[new.jobID] = owner[new.jobID] ?? index
                owner[old.jobID] = owner[old.jobID] ?? index
            case .removeDeployment(let deployment, _): owner[deployment.jobID] = owner[deployment.jobID] ?? index
            case .createJob, .removeJob: continue
            }
        }
        var groups: [Int: [PlanDescription.Entry]] = [:]
        var order: [Int] = []
        for (index, change) in plan.changes.enumerated() {
            let key: Int = switch change {
            case .createJob(let job, _): owner[job.id] ?? index
            case .removeJob(let id, _): owner[id] ?? index
            default: index
            }
            if groups[key] == nil { order.append(key) }
            let entry = description.entries[index]
            // The deployment's own entry leads its section.
            if key == index { groups[key, default: []].insert(entry, at: 0) } else { groups[key, default: []].append(entry) }
        }
        return order.sorted().compactMap { groups[$0] }
    }

    /// What a plan without changes says: nothing to do, or nothing planned because of its errors.
    static func emptyNote(_ plan: Plan) -> String {
        plan.errors.isEmpty ? "No changes: the cluster already matches." : "Nothing planned: the errors must be fixed first."
    }

    /// `Plan: 1 to add, 0 to change, 0 to remove.`, or that it is refused.
    public static func summaryLine(_ plan: Plan) -> String {
        let summary = PlanDescription(plan).summary
        return plan.errors.isEmpty ? summary : summary + " Refused: \(plan.errors.count) error(s)."
    }

    /// Text safe inside markdown (a list item, a summary): no HTML, no control characters.
    static func cell(_ text: String) -> String {
        Printable.escape(text, limit: 2000).replacingOccurrences(of: "<", with: "&lt;")
    }

    // MARK: JSON

    /// The documented JSON form (`docs/plan-format.md`), `formatVersion` 2, keys sorted.
    public static func json(_ plan: Plan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Every value in the document is a string, number, bool, array or object: encoding cannot fail.
        return String(decoding: try! encoder.encode(PlanDocument(plan)), as: UTF8.self) + "\n"
    }
}

/// ANSI colours for the text form.
struct Paint {
    let enabled: Bool

    func callAsFunction(_ text: String, _ marker: PlanDescription.Marker) -> String {
        switch marker {
        case .add: wrap(text, "32")
        case .change: wrap(text, "33")
        case .remove: wrap(text, "31")
        }
    }

    func warning(_ text: String) -> String { wrap(text, "33") }
    func error(_ text: String) -> String { wrap(text, "31;1") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
