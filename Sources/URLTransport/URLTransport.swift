internal import CCurl
internal import CCurlShims
import BlockingIO
import Foundation
import HTTPTransport

/// HTTP/1.1 with libcurl to `http://host:port` or `https://host:port` (a master's API), TLS
/// verified against a CA file when given, else the system's certificates. Each request runs on
/// the blocking pool: `curl_easy_perform` blocks until the reply is complete. Unix sockets (the
/// Docker engine) go through `HTTPTransport`, which needs no C library.
public struct URLTransport: Sendable {
    public let base: String
    public let caFile: String?

    public init(base: String, caFile: String? = nil) {
        self.base = base
        self.caFile = caFile
    }

    /// Sends `request` and returns the whole reply.
    public func send(_ request: HTTPTransport.Request) async throws -> HTTPTransport.Response {
        let (base, caFile) = (base, caFile)
        return try await BlockingPool.shared.run { try Self.perform(base: base, caFile: caFile, request: request) }
    }

    private static func perform(base: String, caFile: String?, request: HTTPTransport.Request) throws -> HTTPTransport.Response {
        Curl.initialize()
        let operation = request.operation
        guard let handle = curl_easy_init() else {
            throw HTTPTransport.Failure(operation: operation, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        let sink = BodySink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        var headers = curl_slist_append(nil, "Content-Type: application/json")
        for line in request.headers { headers = curl_slist_append(headers, line) }
        defer { curl_slist_free_all(headers) }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE))
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            CCurlShims_setopt_string(handle, CURLOPT_URL, base + request.path)
            if let caFile { CCurlShims_setopt_string(handle, CURLOPT_CAINFO, caFile) }
            // Never follow a redirect with the token to another host.
            CCurlShims_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            CCurlShims_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            CCurlShims_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            CCurlShims_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            let timeout = request.timeout.map { Int($0.components.seconds * 1000) } ?? 0
            CCurlShims_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout)
            CCurlShims_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            CCurlShims_setopt_write_function(handle, writeBody)
            CCurlShims_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
            guard let body = request.body else { return curl_easy_perform(handle) }
            return body.withUnsafeBytes { bytes in
                CCurlShims_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                CCurlShims_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw HTTPTransport.Failure(operation: operation, message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        CCurlShims_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPTransport.Response(status: status, body: sink.data)
    }
}

/// A reply's body as it arrives; only the thread running `curl_easy_perform` touches it.
private final class BodySink {
    var data = Data()
}

private let writeBody: CCurlShims_write_callback = { bytes, size, count, context in
    let sink = Unmanaged<BodySink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let bytes, length > 0 { sink.data.append(UnsafeRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: length) }
    return length
}

/// `curl_global_init` must run once before any other thread uses curl.
enum Curl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func initialize() { _ = initialized }
}
