import Foundation

/// What a chaos run did and found: faults per kind with their recovery times, the invariants
/// checked, and every violation.
struct Report {
    private(set) var violations: [Violation] = []
    private var recoveries: [FaultKind: [Duration]] = [:]
    private var leaders: [FaultKind: [Duration]] = [:]
    private var checks = 0
    private var samples = 0

    mutating func checked(_ found: [Violation]) {
        checks += 1
        violations += found
    }

    mutating func fault(_ kind: FaultKind, recovery: Duration, leader: Duration?, violations found: [Violation]) {
        recoveries[kind, default: []].append(recovery)
        if let leader { leaders[kind, default: []].append(leader) }
        checked(found)
    }

    mutating func monitored(_ monitor: Monitor) {
        samples = monitor.sampleCount
        violations += monitor.violations
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", duration.seconds)
    }

    func render(seed: UInt64) -> String {
        let injected = recoveries.values.map(\.count).reduce(0, +)
        var lines = ["", "chaos run, seed \(seed): \(injected) faults injected", "",
                     "| fault | count | recovered (median, max) | leader after (max) |", "|---|---|---|---|"]
        for kind in FaultKind.allCases {
            guard let times = recoveries[kind]?.sorted() else { continue }
            let leader = leaders[kind]?.max().map(Self.seconds) ?? "—"
            lines.append("| \(kind.rawValue) | \(times.count) | \(Self.seconds(times[times.count / 2])), \(Self.seconds(times.last!)) | \(leader) |")
        }
        lines += ["", "invariants checked at \(checks) checkpoints (after each fault and the first commit):",
                  "  the configuration equals the last applied commit (no deployment lost or half applied)",
                  "  every rollout ends done, rolled back or superseded",
                  "  containers of unchanged tasks are never restarted (nor replaced)",
                  "  a leader exists within the session timeout plus 5 s",
                  "and in \(samples) samples, 4 a second, all along:",
                  "  never two containers for one task", "  never two agents acting for one host", "",
                  "violations: \(violations.count)"]
        lines += violations.map { "  - \($0)" }
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
