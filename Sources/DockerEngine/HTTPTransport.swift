internal import CCurl
internal import CCurlShims
import BlockingIO
import Foundation

/// HTTP/1.1 over a unix socket with libcurl. Each request runs on the blocking pool:
/// `curl_easy_perform` blocks until the reply is complete.
struct HTTPTransport: Sendable {
    let socketPath: String

    struct Response: Sendable {
        let status: Int
        let body: Data
    }

    func send(method: String, path: String, body: Data?, timeout: Duration) async throws -> Response {
        let socketPath = self.socketPath
        return try await BlockingPool.shared.run {
            try Self.perform(socketPath: socketPath, method: method, path: path, body: body, timeout: timeout)
        }
    }

    private static func perform(socketPath: String, method: String, path: String, body: Data?,
                                timeout: Duration) throws -> Response {
        Curl.initialize()
        guard let handle = curl_easy_init() else {
            throw DockerError(status: 0, operation: "\(method) \(path)", message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        let headers = curl_slist_append(nil, "Content-Type: application/json")
        defer { curl_slist_free_all(headers) }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE))
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            CCurlShims_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
            CCurlShims_setopt_string(handle, CURLOPT_URL, "http://docker" + path)
            CCurlShims_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            CCurlShims_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            CCurlShims_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            CCurlShims_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000))
            CCurlShims_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            CCurlShims_setopt_write_function(handle, writeBody)
            CCurlShims_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
            guard let body else { return curl_easy_perform(handle) }
            return body.withUnsafeBytes { bytes in
                CCurlShims_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                CCurlShims_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DockerError(status: 0, operation: "\(method) \(path)",
                              message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        CCurlShims_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, body: sink.data)
    }
}

/// Collects a reply's body; only the thread running `curl_easy_perform` touches it.
private final class ResponseSink {
    var data = Data()
}

private let writeBody: CCurlShims_write_callback = { bytes, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
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
