/// A failed Docker Engine API call: what went wrong as a code to act on, with Docker's own
/// words as the cause and a remedy for the person reading the log.
///
/// Docker reports many failures as HTTP 500 with an English message; this is the one place
/// that reads those messages, so nobody else matches phrases.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The engine could not be reached (socket missing, dockerd down, the call timed out).
        case engineUnreachable
        /// The container (or exec instance, volume, …) does not exist.
        case notFound
        /// The image is neither on the host nor in its registry, or the registry will not say.
        case imageNotFound
        /// A host port the container publishes is held by another process or container.
        case portInUse
        /// The request clashes with the object's state: a name in use, a container being removed.
        case conflict
        /// Docker refused the request as invalid: a bad capability, mount or option.
        case invalidRequest
        /// The engine failed for a reason of its own; trying again may help.
        case engineFailure
        /// The engine answered with something Helios could not read.
        case unreadableReply
    }

    public let code: Code
    /// The HTTP status, or 0 when the engine was not reached.
    public let status: Int
    /// What Helios asked for, e.g. `create container helios-web`.
    public let operation: String
    /// Docker's message (`{"message": …}`), or the transport error: the cause.
    public let message: String

    /// `code` nil: classified from the status and Docker's message.
    public init(status: Int, operation: String, message: String, code: Code? = nil) {
        self.status = status
        self.operation = operation
        self.message = message
        self.code = code ?? Self.classify(status: status, message: message)
    }

    /// The object does not exist (HTTP 404).
    public var isNotFound: Bool { code == .notFound || code == .imageNotFound }

    /// What the operator can do about it.
    public var remedy: String {
        switch code {
        case .engineUnreachable: "is dockerd running and the socket reachable?"
        case .notFound: "it was removed meanwhile; Helios looks again"
        case .imageNotFound: "check the image name and tag, and that the registry has it and the host may pull it"
        case .portInUse: "free the host port, or let Helios pick one (leave `external` out)"
        case .conflict: "another change to the same container is in progress; Helios tries again"
        case .invalidRequest: "fix the job's container settings"
        case .engineFailure: "see dockerd's log; Helios tries again"
        case .unreadableReply: "the engine's API version may be unsupported"
        }
    }

    public var description: String {
        status == 0
            ? "docker \(operation) failed: \(message) (\(remedy))"
            : "docker \(operation) failed (\(status)): \(message)"
    }

    static func classify(status: Int, message: String) -> Code {
        let text = message.lowercased()
        func says(_ phrases: String...) -> Bool { phrases.contains { text.contains($0) } }
        switch status {
        case 0: return .engineUnreachable
        case 404: return says("no such image", "manifest unknown", "pull access denied") ? .imageNotFound : .notFound
        case 409: return .conflict
        case 400: return .invalidRequest
        default:
            if says("port is already allocated", "address already in use") { return .portInUse }
            if says("manifest unknown", "pull access denied", "repository does not exist", "not found: manifest",
                    "no such image") { return .imageNotFound }
            return .engineFailure
        }
    }
}
