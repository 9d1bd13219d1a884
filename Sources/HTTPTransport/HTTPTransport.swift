internal import CCurl
internal import CCurlShims
import BlockingIO
import Foundation
import Synchronization

/// HTTP/1.1 with libcurl, over a unix socket (the Docker engine) or TCP (a master's API, TLS
/// verified against a CA file when given). Each request runs on the blocking pool:
/// `curl_easy_perform` blocks until the reply is complete.
public struct HTTPTransport: Sendable {
    /// Where requests go.
    public enum Endpoint: Sendable {
        /// A unix socket: paths are sent as `http://localhost<path>`.
        case unixSocket(String)
        /// `http://host:port` or `https://host:port`; `caFile`: the certificates an https server's
        /// must chain to (else the system's).
        case url(String, caFile: String? = nil)
    }

    public let endpoint: Endpoint

    public init(_ endpoint: Endpoint) {
        self.endpoint = endpoint
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
    }

    public struct Response: Sendable {
        public let status: Int
        public let body: Data
    }

    /// No reply: the server could not be reached, TLS failed, the time ran out.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let operation: String
        public let message: String
        public var description: String { "\(operation): \(message)" }
    }

    /// Sends `request` and returns the whole reply. A request without a timeout (one that
    /// waits for something to happen) runs on a thread of its own, not the shared pool.
    public func send(_ request: Request) async throws -> Response {
        let endpoint = self.endpoint
        let perform = { @Sendable in
            try Self.perform(endpoint, request: request, sink: ResponseSink(onLine: nil), abort: nil)
        }
        return request.timeout == nil ? try await BlockingPool.runOnOwnThread(perform) : try await BlockingPool.shared.run(perform)
    }

    /// Sends `request` and hands each line of a successful (2xx) reply to `onLine` as it arrives,
    /// until the engine ends the reply or the calling task is cancelled. A failed reply's body is
    /// returned whole, to carry Docker's message. Streams run on threads of their own: they
    /// last as long as their reader.
    public func streamLines(_ request: Request, onLine: @escaping @Sendable (Data) -> Void) async throws -> Response {
        let endpoint = self.endpoint
        let abort = AbortFlag()
        return try await withTaskCancellationHandler {
            try await BlockingPool.runOnOwnThread {
                try Self.perform(endpoint, request: request, sink: ResponseSink(onLine: onLine), abort: abort)
            }
        } onCancel: {
            abort.raise()
        }
    }

    private static func perform(_ endpoint: Endpoint, request: Request, sink: ResponseSink,
                                abort: AbortFlag?) throws -> Response {
        Curl.initialize()
        let operation = "\(request.method) \(request.path)"
        guard let handle = curl_easy_init() else {
            throw Failure(operation: operation, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        sink.handle = handle
        sink.abort = abort
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        var headers = curl_slist_append(nil, "Content-Type: application/json")
        for line in request.headers { headers = curl_slist_append(headers, line) }
        defer { curl_slist_free_all(headers) }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE))
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            switch endpoint {
            case .unixSocket(let path):
                CCurlShims_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, path)
                CCurlShims_setopt_string(handle, CURLOPT_URL, "http://localhost" + request.path)
            case .url(let base, let caFile):
                CCurlShims_setopt_string(handle, CURLOPT_URL, base + request.path)
                if let caFile { CCurlShims_setopt_string(handle, CURLOPT_CAINFO, caFile) }
                // Never follow a redirect with the token to another host.
                CCurlShims_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            }
            CCurlShims_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            CCurlShims_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            CCurlShims_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            let timeout = request.timeout.map { Int($0.components.seconds * 1000) } ?? 0
            CCurlShims_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout)
            CCurlShims_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            CCurlShims_setopt_write_function(handle, writeBody)
            CCurlShims_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
            if abort != nil {
                CCurlShims_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
                CCurlShims_setopt_xferinfo_function(handle, checkAbort)
                CCurlShims_setopt_pointer(handle, CURLOPT_XFERINFODATA, context.toOpaque())
            }
            guard let body = request.body else { return curl_easy_perform(handle) }
            return body.withUnsafeBytes { bytes in
                CCurlShims_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                CCurlShims_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                return curl_easy_perform(handle)
            }
        }
        if abort?.isRaised == true { throw CancellationError() }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure(operation: operation, message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        sink.finish()
        return Response(status: sink.status, body: sink.data)
    }
}

/// Set from any thread to end a streaming transfer at curl's next progress call.
private final class AbortFlag: Sendable {
    private let raised = Atomic(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}

/// Collects a reply's body, or splits a successful one into lines for `onLine`; only the thread
/// running `curl_easy_perform` touches it.
private final class ResponseSink {
    let onLine: (@Sendable (Data) -> Void)?
    var handle: UnsafeMutableRawPointer?
    var abort: AbortFlag?
    var data = Data()

    init(onLine: (@Sendable (Data) -> Void)?) {
        self.onLine = onLine
    }

    var status: Int {
        var status = 0
        CCurlShims_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {
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

private let writeBody: CCurlShims_write_callback = { bytes, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let bytes, length > 0 { sink.receive(UnsafeRawBufferPointer(start: bytes, count: length)) }
    return length
}

private let checkAbort: CCurlShims_xferinfo_callback = { context, _, _, _, _ in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    return sink.abort?.isRaised == true ? 1 : 0
}

/// `curl_global_init` must run once before any other thread uses curl.
enum Curl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func initialize() { _ = initialized }
}
