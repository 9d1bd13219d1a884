import Foundation
import HTTPTransport
import Synchronization

/// A client of the Docker Engine API over its unix socket.
///
/// The API version is negotiated on first use from `GET /version`: the engine's own
/// version, capped at the newest this client speaks, never a hard-coded newer prefix.
public final class DockerClient: Sendable {
    /// The newest API version this client speaks.
    public static let newestAPIVersion = "1.41"

    private let transport: HTTPTransport
    private let negotiated = Mutex<String?>(nil)

    /// A client of the engine listening on `socketPath`.
    public init(socketPath: String = "/var/run/docker.sock") {
        transport = HTTPTransport(unixSocket: socketPath)
    }

    /// The socket path from `DOCKER_HOST=unix://…`, else Docker's default.
    public static var defaultSocketPath: String {
        if let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            return String(host.dropFirst("unix://".count))
        }
        return "/var/run/docker.sock"
    }

    /// The API version in use, negotiated with the engine.
    public func apiVersion() async throws -> String {
        if let version = negotiated.withLock({ $0 }) { return version }
        let response = try await reachable { try await transport.send(.init(method: "GET", path: "/version", timeout: .seconds(10))) }
        guard response.status == 200 else { throw error(response, "version") }
        let engine = try JSONDecoder().decode(EngineVersion.self, from: response.body)
        let version = Self.older(engine.apiVersion, Self.newestAPIVersion)
        negotiated.withLock { $0 = version }
        return version
    }

    static func older(_ a: String, _ b: String) -> String {
        let parse = { (v: String) in v.split(separator: ".").map { Int($0) ?? 0 } }
        return parse(a).lexicographicallyPrecedes(parse(b)) ? a : b
    }

    // MARK: Requests

    /// A request to the negotiated API version, e.g. `call("GET", "/containers/json")`.
    func call(_ method: String, _ path: String, body: Data? = nil, headers: [String] = [],
              timeout: Duration? = .seconds(60)) async throws -> HTTPTransport.Response {
        let version = try await apiVersion()
        return try await reachable {
            try await transport.send(.init(method: method, path: "/v\(version)" + path, body: body, headers: headers,
                                           timeout: timeout))
        }
    }

    /// A request whose successful reply is a stream of JSON lines, each handed to `onLine` as it
    /// arrives; it ends with the reply, or when the calling task is cancelled.
    func stream(_ method: String, _ path: String, body: Data? = nil, headers: [String] = [],
                timeout: Duration? = nil, onLine: @escaping @Sendable (Data) -> Void) async throws -> HTTPTransport.Response {
        let version = try await apiVersion()
        return try await reachable {
            try await transport.streamLines(.init(method: method, path: "/v\(version)" + path, body: body,
                                                  headers: headers, timeout: timeout), onLine: onLine)
        }
    }

    /// A request that got no reply is the engine unreachable (status 0).
    private func reachable(_ body: () async throws -> HTTPTransport.Response) async throws -> HTTPTransport.Response {
        do {
            return try await body()
        } catch let failure as HTTPTransport.Failure {
            throw DockerError(status: 0, operation: failure.operation, message: failure.message)
        }
    }

    /// The error a failed reply stands for, with Docker's own message.
    func error(_ reply: HTTPTransport.Response, _ operation: String) -> DockerError {
        let message = (try? JSONDecoder().decode(EngineMessage.self, from: reply.body))?.message
            ?? String(decoding: reply.body, as: UTF8.self)
        return DockerError(status: reply.status, operation: operation, message: message)
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: HTTPTransport.Response, _ operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: reply.body)
        } catch {
            throw DockerError(status: reply.status, operation: operation, message: "unreadable reply: \(error)")
        }
    }

    static func escape(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? component
    }
}

private struct EngineVersion: Decodable {
    let apiVersion: String
    enum CodingKeys: String, CodingKey { case apiVersion = "ApiVersion" }
}

private struct EngineMessage: Decodable {
    let message: String
}
