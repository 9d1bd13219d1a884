// What `make bench` reports. Each benchmark (`helios-bench plan`, `swarm`, …) writes its figures to
// `bench/results/<benchmark>-<part>.json`; `helios-bench report` joins the parts into `bench/results.json`
// and the one table of `bench/results.md`. A figure carries its samples, so the table shows the
// median, min–max and count, and names its baseline: another figure of the same run, against
// which its ratio is printed.
import Foundation

struct Figure: Codable {
    /// The part of the table: "floors", "Docker Swarm", "Helios", …
    var part: String
    var name: String
    var unit: String
    var samples: [Double]
    /// The figure this one is measured against (its `name`, in any part of the same run).
    var baseline: String?
    /// The target, as a sentence of the issue ("≤ raw + 50 ms"), and whether it was met.
    var target: String?
    var met: Bool?
    var note: String?

    var median: Double { AgentBenchmark.median(samples) }
    var minimum: Double { samples.min() ?? 0 }
    var maximum: Double { samples.max() ?? 0 }
}

/// The figures one part measured, written as it goes: a part cut short still reports what it had.
final class Results {
    let part: String
    private(set) var figures: [Figure] = []

    static var directory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["BENCH_RESULTS"] ?? "bench/results")
    }

    init(part: String) {
        self.part = part
    }

    @discardableResult
    func add(_ name: String, unit: String = "ms", _ samples: [Double], baseline: String? = nil,
             target: String? = nil, met: Bool? = nil, note: String? = nil) -> Figure {
        let figure = Figure(part: part, name: name, unit: unit, samples: samples, baseline: baseline,
                            target: target, met: met, note: note)
        figures.append(figure)
        save()
        return figure
    }

    private func save() {
        // One file per benchmark and part: two benchmarks may add to one part of the table.
        let benchmark = CommandLine.arguments.dropFirst().first ?? "plan"
        let file = Self.directory.appendingPathComponent(benchmark + "-" + part.lowercased()
            .replacingOccurrences(of: " ", with: "-").filter { $0.isLetter || $0 == "-" } + ".json")
        try? FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? encoder.encode(figures).write(to: file)
    }
}

/// `helios-bench report`: every part's figures as one table, with the date and the machine.
enum Report {
    struct Document: Codable {
        var date: String
        var machine: String
        var figures: [Figure]
    }

    /// The order of the parts in the table.
    static let parts = ["floors", "Docker Swarm", "Helios", "where the time goes", "scale (simulated)", "cold load", "apply", "footprint", "planner", "dashboard"]

    static func run() throws {
        let decoder = JSONDecoder()
        let files = (try? FileManager.default.contentsOfDirectory(at: Results.directory, includingPropertiesForKeys: nil)) ?? []
        var figures = try files.filter { $0.pathExtension == "json" }.flatMap { try decoder.decode([Figure].self, from: Data(contentsOf: $0)) }
        figures.sort { (parts.firstIndex(of: $0.part) ?? parts.count) < (parts.firstIndex(of: $1.part) ?? parts.count) }
        let document = Document(date: ISO8601DateFormatter().string(from: Date()), machine: machine(), figures: figures)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bench = Results.directory.deletingLastPathComponent()
        try encoder.encode(document).write(to: bench.appendingPathComponent("results.json"))
        let table = markdown(document)
        try Data(table.utf8).write(to: bench.appendingPathComponent("results.md"))
        print(table)
    }

    static func markdown(_ document: Document) -> String {
        let byName = Dictionary(document.figures.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var text = """
            # Benchmark results

            \(document.date), \(document.machine). Medians of the samples, min–max, and the ratio
            to the baseline measured in the same run (`make bench`; bench/README.md says what each
            figure means). Scale figures come from a simulated fleet (see bench/README.md).

            | part | figure | median | min–max | n | baseline | ratio | target |
            |---|---|---:|---:|---:|---|---:|---|

            """
        for figure in document.figures {
            let baseline = figure.baseline.flatMap { byName[$0] }
            let ratio = baseline.map { $0.median > 0 ? String(format: "%.2f×", figure.median / $0.median) : "–" } ?? ""
            let target = figure.target.map { target in
                target + (figure.met.map { $0 ? " ✅" : " ❌" } ?? "")
            } ?? ""
            let name = figure.name + (figure.note.map { " (\($0))" } ?? "")
            // A baseline named but not measured (renamed, or its part not run) says so.
            let baselineText = baseline.map { "\($0.name): \(format($0.median, $0.unit))" }
                ?? figure.baseline.map { "not in this run: \($0)" } ?? ""
            text += "| \(figure.part) | \(name) | \(format(figure.median, figure.unit)) | "
                + "\(figure.samples.count > 1 ? format(figure.minimum, figure.unit) + "–" + format(figure.maximum, figure.unit) : "") | "
                + "\(figure.samples.count) | \(baselineText) | \(ratio) | \(target) |\n"
        }
        return text
    }

    static func format(_ value: Double, _ unit: String) -> String {
        let number = value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
        return unit.isEmpty ? number : "\(number) \(unit)"
    }

    /// The CPU model and count, memory and kernel, read from /proc.
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let memory = ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("MemTotal:") }.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Double($0) } ?? 0
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return "\(ProcessInfo.processInfo.activeProcessorCount) × \(model), \(String(format: "%.0f", memory / 1024 / 1024)) GiB, Linux \(kernel)"
    }
}
