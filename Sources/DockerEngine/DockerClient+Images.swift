import Foundation
import Synchronization

/// One line of a pull's progress, as the engine streams it.
public struct PullProgress: Sendable, Decodable, Equatable {
    public struct Detail: Sendable, Decodable, Equatable {
        public let current: Int64?
        public let total: Int64?
    }

    /// `Pulling fs layer`, `Downloading`, `Pull complete`, `Status: Downloaded newer image for …`.
    public let status: String?
    /// The layer this line is about.
    public let id: String?
    public let progressDetail: Detail?
    /// Set when the pull failed part-way: the engine reports it inside a 200 reply.
    public let error: String?
}

extension DockerClient {
    /// Whether the engine has `image` locally.
    public func imageExists(_ image: String) async throws -> Bool {
        let reply = try await call("GET", "/images/\(Self.escape(image))/json")
        if reply.status == 404 { return false }
        guard reply.status == 200 else { throw error(reply, "inspect image \(image)") }
        return true
    }

    /// Pulls `image` (`name[:tag]` or `name@digest`; no tag means `latest`, never every tag),
    /// handing each progress line to `progress`. `credentials` are sent to the image's registry.
    /// A pull that fails — before the reply or part-way through it — throws Docker's message.
    public func pullImage(_ image: String, credentials: RegistryCredentials? = nil,
                          progress: @escaping @Sendable (PullProgress) -> Void = { _ in }) async throws {
        let reference = ImageReference(image)
        var query = "fromImage=\(Self.escape(reference.name))"
        if let tag = reference.tag { query += "&tag=\(Self.escape(tag))" }
        let headers = credentials.map { ["X-Registry-Auth: \($0.header)"] } ?? []
        let failure = FirstFailure()
        let operation = "pull image \(image)"
        let reply = try await stream("POST", "/images/create?\(query)", headers: headers, timeout: .seconds(3600)) { line in
            guard let line = try? JSONDecoder().decode(PullProgress.self, from: line) else { return }
            if let message = line.error { failure.record(message) }
            progress(line)
        }
        guard reply.status == 200 else { throw pullError(error(reply, operation)) }
        if let message = failure.message { throw pullError(DockerError(status: reply.status, operation: operation, message: message)) }
    }
}

/// A failed pull: a registry that lacks the image (or will not say) answers 404 or in words.
private func pullError(_ error: DockerError) -> DockerError {
    let text = error.message.lowercased()
    let missing = error.status == 404 || ["not found", "manifest unknown", "does not exist", "pull access denied"].contains { text.contains($0) }
    guard missing, error.code != .engineUnreachable else { return error }
    return DockerError(status: error.status, operation: error.operation, message: error.message, code: .imageNotFound)
}

/// An image reference split the way `POST /images/create` takes it.
struct ImageReference: Equatable {
    /// Registry, repository path and, for a digest reference, `@sha256:…`.
    let name: String
    let tag: String?

    init(_ reference: String) {
        if reference.contains("@") {
            name = reference
            tag = nil
            return
        }
        // A colon after the last slash starts a tag; one before it is a registry's port.
        let lastSlash = reference.lastIndex(of: "/") ?? reference.startIndex
        if let colon = reference[lastSlash...].lastIndex(of: ":") {
            name = String(reference[..<colon])
            tag = String(reference[reference.index(after: colon)...])
        } else {
            name = reference
            tag = "latest"
        }
    }

    /// The registry an image is pulled from, as docker config files key it: the first path
    /// component when it names a host (has a `.` or `:`, or is `localhost`), else Docker Hub.
    static func registry(of image: String) -> String {
        let parts = image.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let first = parts.first,
              first.contains(".") || first.contains(":") || first == "localhost" else {
            return RegistryCredentials.dockerHub
        }
        return String(first)
    }
}

/// The first error line of a stream, recorded from the transfer's thread.
private final class FirstFailure: Sendable {
    private let stored = Mutex<String?>(nil)
    func record(_ message: String) { stored.withLock { $0 = $0 ?? message } }
    var message: String? { stored.withLock { $0 } }
}
