internal import CGit2

/// A libgit2 failure, with libgit2's message.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// libgit2's return code (`git_error_code`).
    public let code: Int32
    /// What Helios was doing, e.g. `fetch origin main`.
    public let operation: String
    /// libgit2's own message.
    public let message: String

    public init(code: Int32, operation: String, message: String) {
        self.code = code
        self.operation = operation
        self.message = message
    }

    public var description: String { "git \(operation) failed: \(message)" }

    /// The code of a fetch that got no answer in time (not one of libgit2's).
    public static let timeoutCode: Int32 = -1000

    /// True for a fetch the remote did not answer in time.
    public var isTimeout: Bool { code == Self.timeoutCode }

    /// The error of the libgit2 call that just returned `code` on this thread
    /// (`git_error_last` is thread-local).
    static func last(_ code: Int32, _ operation: String) -> GitError {
        let message = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } }
        return GitError(code: code, operation: operation, message: message ?? "error \(code)")
    }
}

/// Calls a libgit2 function and throws its error when it fails.
func check(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws {
    let code = call()
    if code < 0 { throw GitError.last(code, operation()) }
}
