import Foundation

/// A remote that accepts connections on loopback and never answers (scripts/stalling-server.py):
/// what a git server wedged behind a load balancer looks like.
public final class StallingServer: @unchecked Sendable {
    // @unchecked: the Process is only touched from the test that owns the server.
    public let port: Int
    private let process: Process

    public init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/stalling-server.py").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NSError(domain: "StallingServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "no port: \(line)"])
        }
        self.port = port
    }

    /// An http URL of a repository it will never serve.
    public var url: String { "http://127.0.0.1:\(port)/stalled.git" }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
