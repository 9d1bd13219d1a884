import Foundation

/// What a new container runs: the subset of Docker's create request Helios uses.
public struct ContainerSpec: Sendable, Equatable {
    public var image: String
    public var command: [String]?
    public var environment: [String: String]
    public var labels: [String: String]

    public init(image: String, command: [String]? = nil, environment: [String: String] = [:],
                labels: [String: String] = [:]) {
        self.image = image
        self.command = command
        self.environment = environment
        self.labels = labels
    }
}

/// A container as `GET /containers/json` lists it.
public struct ContainerSummary: Sendable, Decodable, Equatable {
    public let id: String
    public let names: [String]
    public let image: String
    /// `created`, `running`, `exited`, …
    public let state: String
    public let labels: [String: String]

    /// The container's name without Docker's leading `/`.
    public var name: String { names.first.map { String($0.drop { $0 == "/" }) } ?? id }

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", labels = "Labels"
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        id = try values.decode(String.self, forKey: .id)
        names = try values.decodeIfPresent([String].self, forKey: .names) ?? []
        image = try values.decode(String.self, forKey: .image)
        state = try values.decode(String.self, forKey: .state)
        labels = try values.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}

/// A container as `GET /containers/{id}/json` describes it.
public struct ContainerDetails: Sendable, Decodable, Equatable {
    public struct State: Sendable, Decodable, Equatable {
        public let status: String
        public let running: Bool
        public let exitCode: Int
        public let error: String
        public let startedAt: String
        public let finishedAt: String

        enum CodingKeys: String, CodingKey {
            case status = "Status", running = "Running", exitCode = "ExitCode", error = "Error",
                 startedAt = "StartedAt", finishedAt = "FinishedAt"
        }
    }

    public let id: String
    public let name: String
    public let state: State

    enum CodingKeys: String, CodingKey { case id = "Id", name = "Name", state = "State" }
}

extension DockerClient {
    /// Creates a container named `name` and returns its id.
    public func createContainer(name: String, spec: ContainerSpec) async throws -> String {
        struct Request: Encodable {
            let Image: String
            let Cmd: [String]?
            let Env: [String]
            let Labels: [String: String]
        }
        struct Created: Decodable { let Id: String }
        let body = try JSONEncoder().encode(Request(
            Image: spec.image, Cmd: spec.command,
            Env: spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            Labels: spec.labels))
        let operation = "create container \(name)"
        let reply = try await call("POST", "/containers/create?name=\(Self.escape(name))", body: body)
        guard reply.status == 201 else { throw error(reply, operation) }
        return try decode(Created.self, reply, operation).Id
    }

    /// Starts a created or stopped container; starting a running one is not an error.
    public func startContainer(_ id: String) async throws {
        let reply = try await call("POST", "/containers/\(Self.escape(id))/start")
        guard reply.status == 204 || reply.status == 304 else { throw error(reply, "start container \(id)") }
    }

    /// Stops a container: SIGTERM, then SIGKILL after `timeout`. Stopping a stopped one is not an error.
    public func stopContainer(_ id: String, timeout: Duration = .seconds(10)) async throws {
        let seconds = timeout.components.seconds
        let reply = try await call("POST", "/containers/\(Self.escape(id))/stop?t=\(seconds)",
                                   timeout: .seconds(seconds + 60))
        guard reply.status == 204 || reply.status == 304 else { throw error(reply, "stop container \(id)") }
    }

    /// Removes a container; `force` kills it first when it runs.
    public func removeContainer(_ id: String, force: Bool = false) async throws {
        let reply = try await call("DELETE", "/containers/\(Self.escape(id))?force=\(force)&v=true")
        guard reply.status == 204 else { throw error(reply, "remove container \(id)") }
    }

    /// Describes a container; throws a not-found `DockerError` when it does not exist.
    public func inspectContainer(_ id: String) async throws -> ContainerDetails {
        let operation = "inspect container \(id)"
        let reply = try await call("GET", "/containers/\(Self.escape(id))/json")
        guard reply.status == 200 else { throw error(reply, operation) }
        return try decode(ContainerDetails.self, reply, operation)
    }

    /// Lists containers carrying every label in `labels` (`key` or `key=value`);
    /// `all` includes stopped ones.
    public func listContainers(all: Bool = true, labels: [String] = []) async throws -> [ContainerSummary] {
        let filters = try JSONEncoder().encode(["label": labels])
        let query = "all=\(all)&filters=\(Self.escape(String(decoding: filters, as: UTF8.self)))"
        let operation = "list containers"
        let reply = try await call("GET", "/containers/json?\(query)")
        guard reply.status == 200 else { throw error(reply, operation) }
        return try decode([ContainerSummary].self, reply, operation)
    }

    /// Whether the engine has `image` locally.
    public func imageExists(_ image: String) async throws -> Bool {
        let reply = try await call("GET", "/images/\(Self.escape(image))/json")
        if reply.status == 404 { return false }
        guard reply.status == 200 else { throw error(reply, "inspect image \(image)") }
        return true
    }
}
