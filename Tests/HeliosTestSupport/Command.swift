import Foundation

/// What a finished program printed and how it exited.
public struct CommandResult: Sendable {
    public let status: Int32
    public let output: String
    public let errors: String
}

/// Runs a program to completion and returns what it printed, whatever its exit status.
public func execute(_ arguments: [String], in directory: String? = nil,
                    environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    // Standard error goes to a file: reading two pipes one after the other can deadlock.
    let errorsFile = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID())")
    _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorsFile) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorsFile)
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errData = (try? Data(contentsOf: errorsFile)) ?? Data()
    return CommandResult(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                         errors: String(decoding: errData, as: UTF8.self))
}

/// Reads what a started `process` writes to its standard output (a `Pipe`) until it exits, on
/// a thread of its own: an async test that blocked on a long-running program (a browser, for
/// a minute) would hold one of the cooperative pool's few threads, and every other test's
/// awaits (a fetch's timeout firing) would wait for it.
public func output(of process: Process) async -> String {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            let data = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: String(decoding: data, as: UTF8.self))
        }
        thread.name = "test-process-wait"
        thread.start()
    }
}

/// Runs a program to completion and returns its standard output; throws on a non-zero exit.
@discardableResult
public func run(_ arguments: [String], in directory: String? = nil,
                environment: [String: String] = [:]) throws -> String {
    let result = try execute(arguments, in: directory, environment: environment)
    guard result.status == 0 else {
        throw CommandFailed(arguments: arguments, status: result.status, output: result.errors + result.output)
    }
    return result.output
}

/// A command exited with a non-zero status.
public struct CommandFailed: Error, CustomStringConvertible {
    public let arguments: [String]
    public let status: Int32
    public let output: String
    public var description: String { "\(arguments.joined(separator: " ")) exited \(status): \(output)" }
}
