import Foundation

/// How a command run in a container ended.
public struct ExecResult: Sendable, Equatable {
    public let exitCode: Int
    /// What it wrote to stdout and stderr, interleaved.
    public let output: String
}

extension DockerClient {
    /// Runs `command` in a running container and waits for it to end, or for `timeout` (the
    /// command is then left to the container: Docker cannot kill an exec).
    public func exec(_ command: [String], in container: String, timeout: Duration = .seconds(30)) async throws -> ExecResult {
        struct Create: Encodable {
            let Cmd: [String]
            let AttachStdout = true
            let AttachStderr = true
        }
        struct Created: Decodable { let Id: String }
        struct Start: Encodable {
            let Detach = false
            let Tty = false
        }
        struct Inspected: Decodable { let ExitCode: Int?; let Running: Bool }

        let operation = "exec \(command.joined(separator: " ")) in \(container)"
        let created = try await call("POST", "/containers/\(Self.escape(container))/exec",
                                     body: try JSONEncoder().encode(Create(Cmd: command)))
        guard created.status == 201 else { throw error(created, operation) }
        let id = try decode(Created.self, created, operation).Id

        // Without a TTY the reply is the command's output, multiplexed; it ends with the command.
        let started = try await call("POST", "/exec/\(id)/start", body: try JSONEncoder().encode(Start()), timeout: timeout)
        guard started.status == 200 else { throw error(started, operation) }
        let inspected = try await call("GET", "/exec/\(id)/json")
        guard inspected.status == 200 else { throw error(inspected, operation) }
        let result = try decode(Inspected.self, inspected, operation)
        guard !result.Running, let exitCode = result.ExitCode else {
            throw DockerError(status: inspected.status, operation: operation, message: "still running after \(timeout)")
        }
        return ExecResult(exitCode: exitCode, output: Self.demultiplex(started.body))
    }

    /// The payload of Docker's multiplexed stream: frames of an 8-byte header (stream type,
    /// three zero bytes, a big-endian length) and that many bytes.
    static func demultiplex(_ stream: Data) -> String {
        let bytes = [UInt8](stream)
        var output: [UInt8] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let length = bytes[offset + 4..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
            let end = min(offset + 8 + length, bytes.count)
            output += bytes[offset + 8..<end]
            offset = end
        }
        return String(decoding: output, as: UTF8.self)
    }
}
