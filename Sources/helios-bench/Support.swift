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
