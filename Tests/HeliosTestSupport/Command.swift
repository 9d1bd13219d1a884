import Foundation

/// Runs a program to completion and returns its standard output; throws on a non-zero exit.
@discardableResult
public func run(_ arguments: [String], in directory: String? = nil,
                environment: [String: String] = [:]) throws -> String {
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
    guard process.terminationStatus == 0 else {
        throw CommandFailed(arguments: arguments, status: process.terminationStatus,
                            output: String(decoding: errData + outData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
}

/// A command exited with a non-zero status.
public struct CommandFailed: Error, CustomStringConvertible {
    public let arguments: [String]
    public let status: Int32
    public let output: String
    public var description: String { "\(arguments.joined(separator: " ")) exited \(status): \(output)" }
}
