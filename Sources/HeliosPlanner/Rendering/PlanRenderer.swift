import Foundation
import HeliosModel

/// Renders plans: text for terminals and logs, JSON for machines, markdown for pull requests.
public enum PlanRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case text, json, markdown
    }

    /// `notes`: the text form lists the warnings and errors too (false when they were printed
    /// on their own, to standard error).
    public static func render(_ plan: Plan, as format: Format, color: Bool = false, notes: Bool = true) -> String {
        switch format {
        case .text: text(plan, color: color, notes: notes)
        case .json: json(plan)
        case .markdown: markdown(plan)
        }
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
            lines += plan.warnings.map { paint.warning("Warning: \($0)") }
            lines += plan.errors.map { paint.error("Error: \($0)") }
        }
        lines.append("Plan: \(description.summary)")
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Markdown

    /// A pull-request comment: a summary, a table of changes, warnings as quotes.
    public static func markdown(_ plan: Plan) -> String {
        let description = PlanDescription(plan)
        var lines = ["### Helios plan: \(description.header)", "", "**\(description.summary)**", ""]
        if plan.isEmpty {
            lines.append(emptyNote(plan))
        } else {
            lines += ["| | Change | Details |", "|---|---|---|"]
            for entry in description.entries {
                let marker = switch entry.marker {
                case .add: "➕"
                case .change: "🔄"
                case .remove: "➖"
                }
                let details = ([entry.headline] + entry.details).filter { !$0.isEmpty }.map(cell).joined(separator: "<br>")
                lines.append("| \(marker) | \(cell(entry.subject)) | \(details) |")
            }
        }
        if !plan.warnings.isEmpty || !plan.errors.isEmpty { lines.append("") }
        lines += plan.warnings.map { "> ⚠️ **Warning:** \(cell($0))" }
        lines += plan.errors.map { "> ⛔ **Error:** \(cell($0))" }
        return lines.joined(separator: "\n") + "\n"
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

    /// Text safe inside a markdown table cell.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "<", with: "&lt;")
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
