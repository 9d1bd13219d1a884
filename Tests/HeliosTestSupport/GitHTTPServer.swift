import Foundation

/// A git remote over HTTP on loopback, behind a password (scripts/git-http-server.py running
/// `git http-backend`): serves the bare repositories under `root`.
public final class GitHTTPServer: @unchecked Sendable {
    // @unchecked: the Process is only touched from the test that owns the server.
    public let port: Int
    public let user = "deployer"
    public let password = "s3cret-\(UUID().uuidString.prefix(8))"
    private let log: URL
    private let process: Process

    public init(serving root: String) throws {
        port = try freeLoopbackPort()
        log = URL(fileURLWithPath: root).appendingPathComponent("git-http-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/git-http-server.py").path,
                             "\(port)", root, user, password, log.path]
        let output = Pipe()
        process.standardOutput = output
        // Its tracebacks (a client that went away mid-reply) go next to the request log.
        let errors = log.deletingPathExtension().appendingPathExtension("errors")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        _ = output.fileHandleForReading.availableData // one line once it listens
    }

    /// The URL of a repository under the root.
    public func url(_ repository: String) -> String { "http://127.0.0.1:\(port)/\(repository)" }

    /// Every request so far, as `METHOD PATH STATUS`.
    public var requests: [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
