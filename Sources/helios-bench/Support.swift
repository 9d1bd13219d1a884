// Helpers every benchmark uses.
import Foundation

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

/// The resident set of process `pid` now, in MiB.
func residentMiB(of pid: Int32) throws -> Double {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let kib = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
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
