import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 exchange over a connected unix socket: the request written, the reply read
/// and framed (Content-Length, chunked, or up to the end of the connection), then closed.
/// Only the thread running `exchange` reads and writes; `abort` may come from any thread.
final class UnixSocketConnection: Sendable {
    private let descriptor: Mutex<Int32>
    private let aborted = Atomic(false)
    private let operation: String

    /// The largest reply head accepted: a server that sends more is not an HTTP server.
    static let headLimit = 64 * 1024

    init(path: String, operation: String) throws {
        self.operation = operation
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw HTTPTransport.Failure(operation: operation, message: "socket path longer than \(capacity - 1) bytes: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPTransport.Failure(operation: operation, message: "socket: \(Self.lastError)") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let message = "connect to \(path): \(Self.lastError)"
            close(fd)
            throw HTTPTransport.Failure(operation: operation, message: message)
        }
        descriptor = Mutex(fd)
    }

    deinit {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    /// Ends the exchange from another thread: shutting the socket wakes a blocked read.
    func abort() {
        aborted.store(true, ordering: .relaxed)
        descriptor.withLock { fd in
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Writes `request`, reads its reply into `sink`, and closes the connection.
    func exchange(_ request: HTTPTransport.Request, sink: ReplySink) throws -> HTTPTransport.Response {
        defer { descriptor.withLock { fd in close(fd); fd = -1 } }
        let deadline = request.timeout.map { ContinuousClock.now + $0 }
        do {
            try write(Self.head(of: request) + [UInt8](request.body ?? Data()), until: deadline)
            var reader = ReplyReader(connection: self, deadline: deadline)
            let framing = try reader.readHead(method: request.method, into: sink)
            try reader.readBody(framing, into: sink)
        } catch let failure as HTTPTransport.Failure {
            if aborted.load(ordering: .relaxed) { throw CancellationError() }
            throw failure
        }
        if aborted.load(ordering: .relaxed) { throw CancellationError() }
        sink.finish()
        return HTTPTransport.Response(status: sink.status, body: sink.data)
    }

    /// The request line and headers; a body goes with its length.
    static func head(of request: HTTPTransport.Request) -> [UInt8] {
        var lines = ["\(request.method) \(request.path) HTTP/1.1", "Host: localhost", "Content-Type: application/json"]
        lines += request.headers
        if let body = request.body { lines.append("Content-Length: \(body.count)") }
        lines.append("Connection: close")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    private func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant?) throws {
        let fd = descriptor.withLock { $0 }
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), until: deadline)
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw failure("write: \(Self.lastError)")
            }
            offset += written
        }
    }

    /// Reads what has arrived into `buffer`, up to 64 KiB: 0 at the end of the connection.
    func read(into buffer: inout [UInt8], until deadline: ContinuousClock.Instant?) throws -> Int {
        let fd = descriptor.withLock { $0 }
        while true {
            try wait(for: Int16(POLLIN), until: deadline)
            let count = withUnsafeTemporaryAllocation(byteCount: 64 * 1024, alignment: 16) { chunk in
                let count = recv(fd, chunk.baseAddress, chunk.count, 0)
                if count > 0 { buffer.append(contentsOf: chunk.prefix(count)) }
                return count
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw failure("read: \(Self.lastError)")
            }
            return count
        }
    }

    /// Blocks until the socket is ready for `events`, or throws when `deadline` passes first.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant?) throws {
        let fd = descriptor.withLock { $0 }
        while true {
            var milliseconds: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw failure("no reply within the timeout") }
                milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw failure("poll: \(Self.lastError)") }
        }
    }

    func failure(_ message: String) -> HTTPTransport.Failure {
        HTTPTransport.Failure(operation: operation, message: message)
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}

/// How a reply's body is delimited.
enum BodyFraming {
    case none
    case length(Int)
    case chunked
    case untilClose
}

/// Reads a reply off a connection: its head, then its body as the head frames it.
struct ReplyReader {
    let connection: UnixSocketConnection
    let deadline: ContinuousClock.Instant?
    private var buffer: [UInt8] = []
    private var start = 0

    init(connection: UnixSocketConnection, deadline: ContinuousClock.Instant?) {
        self.connection = connection
        self.deadline = deadline
    }

    /// The status line and headers: the status goes to `sink`, the framing is returned.
    mutating func readHead(method: String, into sink: ReplySink) throws -> BodyFraming {
        let end = try readUntil([13, 10, 13, 10], limit: UnixSocketConnection.headLimit, what: "the reply's head")
        let head = String(decoding: buffer[start..<end], as: UTF8.self)
        start = end + 4
        let (status, framing) = try parse(head, method: method)
        sink.status = status
        return framing
    }

    /// The status and body framing of a reply head (RFC 9112 §6.3).
    private func parse(_ head: String, method: String) throws -> (Int, BodyFraming) {
        let failure = connection.failure
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100..<600).contains(status) else {
            throw failure("not an HTTP reply: \(statusLine.prefix(80))")
        }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding" { chunked = value.lowercased().hasSuffix("chunked") }
            if name == "content-length" {
                guard let count = Int(value), count >= 0 else { throw failure("bad Content-Length: \(value)") }
                length = count
            }
        }
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return (status, .none) }
        if chunked { return (status, .chunked) }
        if let length { return (status, .length(length)) }
        return (status, .untilClose)
    }

    mutating func readBody(_ framing: BodyFraming, into sink: ReplySink) throws {
        switch framing {
        case .none:
            return
        case .length(let count):
            try pass(count, into: sink)
        case .untilClose:
            while true {
                deliver(buffered, into: sink)
                guard try fill() else { return }
            }
        case .chunked:
            while true {
                let end = try readUntil([13, 10], limit: 1024, what: "a chunk's size")
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = end + 2
                let digits = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(digits, radix: 16), size >= 0 else { throw connection.failure("bad chunk size: \(line.prefix(40))") }
                if size == 0 {
                    // Trailers, if any, up to the empty line that ends the reply.
                    while true {
                        let end = try readUntil([13, 10], limit: UnixSocketConnection.headLimit, what: "the reply's trailers")
                        defer { start = end + 2 }
                        if end == start { return }
                    }
                }
                try pass(size, into: sink)
                guard try readUntil([13, 10], limit: 2, what: "a chunk's end") == start else {
                    throw connection.failure("a chunk longer than its size")
                }
                start += 2
            }
        }
    }

    private var buffered: Int { buffer.count - start }

    /// Hands the next `count` bytes of the body to `sink` as they arrive.
    private mutating func pass(_ count: Int, into sink: ReplySink) throws {
        var left = count
        while left > 0 {
            if buffered == 0, !(try fill()) { throw connection.failure("the reply ended \(left) bytes early") }
            let take = min(left, buffered)
            deliver(take, into: sink)
            left -= take
        }
    }

    private mutating func deliver(_ count: Int, into sink: ReplySink) {
        guard count > 0 else { return }
        sink.receive(buffer[start..<start + count])
        start += count
    }

    /// The index where `marker` next begins, reading until it has arrived.
    private mutating func readUntil(_ marker: [UInt8], limit: Int, what: String) throws -> Int {
        var searched = 0  // bytes after `start` known not to begin the marker
        while true {
            if buffered - searched >= marker.count {
                let last = buffer.count - marker.count
                for index in (start + searched)...last where buffer[index..<index + marker.count].elementsEqual(marker) {
                    return index
                }
                searched = last + 1 - start
            }
            guard buffered <= limit else { throw connection.failure("\(what) is longer than \(limit) bytes") }
            guard try fill() else { throw connection.failure("the connection closed in \(what)") }
        }
    }

    /// Reads more of the reply; false at the end of the connection. What was consumed is dropped.
    private mutating func fill() throws -> Bool {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        return try connection.read(into: &buffer, until: deadline) > 0
    }
}
