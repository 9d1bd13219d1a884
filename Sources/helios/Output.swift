import Foundation
import HeliosManifests
import HeliosModel

/// How the CLI prints: data to standard output, every error, warning and note to standard
/// error, whatever the format.
enum Output {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Colour only on a terminal, never with a non-empty NO_COLOR (no-color.org) or TERM=dumb.
    static var colorAllowed: Bool {
        let environment = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) == 1 && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    /// The diagnostics on standard error, then `N errors and M warnings in K files`.
    static func report(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { error(Printable.lines(diagnostic.description)) }
        let errors = diagnostics.filter { $0.severity == .error }
        let warnings = diagnostics.count - errors.count
        guard !diagnostics.isEmpty else { return }
        let files = Set(diagnostics.map(\.file)).count
        var counts: [String] = []
        if !errors.isEmpty { counts.append(count(errors.count, "error")) }
        if warnings > 0 { counts.append(count(warnings, "warning")) }
        error(counts.joined(separator: " and ") + " in " + count(files, "file"))
    }

    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
