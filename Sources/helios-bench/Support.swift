// Helpers every benchmark uses.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosModel
import HeliosStore

/// A benchmark that cannot go on: what went wrong, printed.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func shell(_ arguments: [String], in directory: URL) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fatalError("\(arguments) failed") }
}

/// CPU seconds process `pid` has used so far (utime + stime from /proc).
func cpuSeconds(of pid: Int32) throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // Fields after the command name, which ends with the last ')': state is field 3, utime 14, stime 15.
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The resident set of process `pid` now, in MiB: all of it (`VmRSS`), or only its private,
/// anonymous part (`RssAnon`: heap and stacks, not the binary's and libraries' pages).
func residentMiB(of pid: Int32, field: String = "VmRSS") throws -> Double {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let kib = status.split(separator: "\n").first { $0.hasPrefix("\(field):") }
        .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Double($0) } ?? 0
    return kib / 1024
}

/// A bare repository a master follows (`bare`), and a clone to commit in (`clone`), under `work`.
struct ManifestRemote {
    let bare: URL
    let clone: URL

    init(in work: URL) throws {
        bare = work.appendingPathComponent("manifests.git")
        clone = work.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: clone, withIntermediateDirectories: true)
        try shell(["git", "init", "-q", "--bare", "-b", "main", bare.path], in: work)
        try shell(["git", "init", "-q", "-b", "main"], in: clone)
        try shell(["git", "remote", "add", "origin", bare.path], in: clone)
    }

    /// Commits everything in the clone as it is and pushes it.
    func push(_ message: String) throws {
        try shell(["git", "add", "-A"], in: clone)
        try shell(["git", "-c", "user.name=bench", "-c", "user.email=bench@helios.invalid", "commit", "-qm", message], in: clone)
        try shell(["git", "push", "-q", "origin", "HEAD:main"], in: clone)
    }
}

/// Peak resident set size of this process, in MiB.
func peakRSS() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// The best of `rounds` timings of `body`, in milliseconds.
func measure<T>(rounds: Int = 5, _ body: () throws -> T) rethrows -> (milliseconds: Double, result: T) {
    var best = Double.infinity
    var result: T?
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        let value = try body()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        result = value
    }
    return (best, result!)
}


/// Milliseconds since `start`.
func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

/// Reads the task statuses of each of `hosts` (up to 250 at once) every `every` until `done`
/// holds for that host's; throws after `timeout`, saying what it waited for.
func waitForStatuses(of hosts: [String], store: HeliosStore, every: Duration, timeout: Duration, _ what: String,
                     until done: @escaping @Sendable ([JobID: TaskStatus]) -> Bool) async throws {
    var waiting = Set(hosts)
    let deadline = ContinuousClock.now + timeout
    while !waiting.isEmpty {
        guard ContinuousClock.now < deadline else {
            throw BenchmarkError("\(what): not after \(timeout) on \(waiting.count) host(s), e.g. \(waiting.min()!)")
        }
        let sorted = waiting.sorted()
        for start in stride(from: 0, to: sorted.count, by: 250) {
            let finished = try await withThrowingTaskGroup(of: String?.self) { group in
                for host in sorted[start..<min(start + 250, sorted.count)] {
                    group.addTask { done((try? await store.taskStatuses(host: host)) ?? [:]) ? host : nil }
                }
                return try await group.reduce(into: [String]()) { if let host = $1 { $0.append(host) } }
            }
            waiting.subtract(finished)
        }
        if !waiting.isEmpty { try await Task.sleep(for: every) }
    }
}

/// A master's `/metrics` page, read once.
struct MetricsPage {
    let text: String

    static func read(port: Int) async throws -> MetricsPage {
        let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        return MetricsPage(text: String(decoding: body, as: UTF8.self))
    }

    /// The sample `name` (with its labels, as the page spells them); 0 when the page has none.
    func value(_ name: String) -> Double {
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
    }

    /// The mean of summary `name`'s observations since `earlier`, in ms; nil when none were made.
    func mean(_ name: String, since earlier: MetricsPage) -> Double? {
        let count = value(name + "_count") - earlier.value(name + "_count")
        return count > 0 ? (value(name + "_sum") - earlier.value(name + "_sum")) / count * 1000 : nil
    }
}
