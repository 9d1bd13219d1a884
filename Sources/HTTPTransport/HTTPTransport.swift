import BlockingIO
import Foundation

/// HTTP/1.1 over a unix socket (the Docker engine's), in Swift over the socket calls: one
/// connection per request, closed with its reply. Each request runs on the blocking pool; the
/// socket calls block until the reply is complete. `URLTransport` speaks to TCP and TLS servers.
public struct HTTPTransport: Sendable {
    /// The unix socket requests go to.
    public let socketPath: String

    public init(unixSocket path: String) {
        socketPath = path
    }

    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var body: Data?
        /// Extra header lines, `Name: value`.
        public var headers: [String] = []
        /// nil: no limit (a stream that lasts as long as its reader).
        public var timeout: Duration?

        public init(method: String, path: String, body: Data? = nil, headers: [String] = [], timeout: Duration? = nil) {
            self.method = method
            self.path = path
            self.body = body
            self.headers = headers
            self.timeout = timeout
        }

        /// `GET /path`: what a failure names.
        public var operation: String { "\(method) \(path)" }
    }

    public struct Response: Sendable {
        public let status: Int
        public let body: Data

        public init(status: Int, body: Data) {
            self.status = status
            self.body = body
        }
    }

    /// No reply: the server could not be reached, TLS failed, the time ran out.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let operation: String
        public let message: String
        public var description: String { "\(operation): \(message)" }

        public init(operation: String, message: String) {
            self.operation = operation
            self.message = message
        }
    }

    /// Sends `request` and returns the whole reply. A request without a timeout (one that
    /// waits for something to happen) runs on a thread of its own, not the shared pool.
    public func send(_ request: Request) async throws -> Response {
        let path = socketPath
        let perform = { @Sendable in
            let connection = try UnixSocketConnection(path: path, operation: request.operation)
            return try connection.exchange(request, sink: ReplySink(onLine: nil))
        }
        return request.timeout == nil ? try await BlockingPool.runOnOwnThread(perform) : try await BlockingPool.shared.run(perform)
    }

    /// Sends `request` and hands each line of a successful (2xx) reply to `onLine` as it arrives,
    /// until the server ends the reply or the calling task is cancelled (which shuts the socket,
    /// waking the read at once). A failed reply's body is returned whole, to carry the server's
    /// message. Streams run on threads of their own: they last as long as their reader.
    public func streamLines(_ request: Request, onLine: @escaping @Sendable (Data) -> Void) async throws -> Response {
        let connection = try UnixSocketConnection(path: socketPath, operation: request.operation)
        return try await withTaskCancellationHandler {
            try await BlockingPool.runOnOwnThread {
                try connection.exchange(request, sink: ReplySink(onLine: onLine))
            }
        } onCancel: {
            connection.abort()
        }
    }
}

/// Collects a reply's body, or splits a successful one into lines for `onLine`.
final class ReplySink {
    let onLine: ((Data) -> Void)?
    var status = 0
    private(set) var data = Data()

    init(onLine: ((Data) -> Void)?) {
        self.onLine = onLine
    }

    func receive(_ bytes: ArraySlice<UInt8>) {
        data.append(contentsOf: bytes)
        guard let onLine, (200..<300).contains(status) else { return }
        while let newline = data.firstIndex(of: UInt8(ascii: "\n")) {
            let line = data[data.startIndex..<newline]
            data.removeSubrange(data.startIndex...newline)
            if !line.isEmpty { onLine(Data(line)) }
        }
    }

    /// Hands on a last line the reply did not end with a newline.
    func finish() {
        guard let onLine, (200..<300).contains(status), !data.isEmpty else { return }
        onLine(data)
        data = Data()
    }
}
