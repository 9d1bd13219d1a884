/// A failed Docker Engine API call, carrying Docker's own message.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status, or 0 when the engine was not reached.
    public let status: Int
    /// What Helios asked for, e.g. `create container helios-web`.
    public let operation: String
    /// Docker's message (`{"message": …}`), or the transport error.
    public let message: String

    public init(status: Int, operation: String, message: String) {
        self.status = status
        self.operation = operation
        self.message = message
    }

    /// The object does not exist (HTTP 404).
    public var isNotFound: Bool { status == 404 }

    public var description: String {
        status == 0
            ? "docker \(operation) failed: \(message) (is dockerd running and the socket reachable?)"
            : "docker \(operation) failed (\(status)): \(message)"
    }
}
