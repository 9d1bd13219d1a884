import Foundation

/// What a new container runs: the subset of Docker's create request Helios uses.
public struct ContainerSpec: Sendable, Equatable {
    public var image: String
    public var command: [String]?
    public var environment: [String: String]
    public var labels: [String: String]
    /// Container ports published on the host, always on 127.0.0.1 by default.
    public var ports: [PublishedPort]
    /// Docker bind specs: `/host:/container[:ro|rw]`, or `/container` for an anonymous volume.
    public var volumes: [String]
    /// tmpfs mounts: container path → mount options.
    public var tmpfs: [String: String]
    public var memory: Int64?
    public var memorySwap: Int64?
    public var cpuShares: Int64?
    public var cpuset: String?
    public var networkMode: String?
    public var hostname: String?
    public var addCapabilities: [String]
    public var dropCapabilities: [String]
    public var securityOptions: [String]

    public init(image: String, command: [String]? = nil, environment: [String: String] = [:],
                labels: [String: String] = [:], ports: [PublishedPort] = [], volumes: [String] = [],
                tmpfs: [String: String] = [:], memory: Int64? = nil, memorySwap: Int64? = nil, cpuShares: Int64? = nil,
                cpuset: String? = nil, networkMode: String? = nil, hostname: String? = nil,
                addCapabilities: [String] = [], dropCapabilities: [String] = [], securityOptions: [String] = []) {
        self.image = image
        self.command = command
        self.environment = environment
        self.labels = labels
        self.ports = ports
        self.volumes = volumes
        self.tmpfs = tmpfs
        self.memory = memory
        self.memorySwap = memorySwap
        self.cpuShares = cpuShares
        self.cpuset = cpuset
        self.networkMode = networkMode
        self.hostname = hostname
        self.addCapabilities = addCapabilities
        self.dropCapabilities = dropCapabilities
        self.securityOptions = securityOptions
    }
}

/// A container port published on a host port.
public struct PublishedPort: Sendable, Equatable {
    public var containerPort: Int
    public var hostPort: Int
    /// `tcp` or `udp`.
    public var `protocol`: String
    public var hostIP: String

    public init(containerPort: Int, hostPort: Int, protocol: String = "tcp", hostIP: String = "127.0.0.1") {
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.protocol = `protocol`
        self.hostIP = hostIP
    }
}

/// Where a container is in Docker's lifecycle, as `GET /containers/json` names it.
public enum ContainerState: Sendable, Equatable {
    case created, running, paused, restarting, removing, exited, dead
    /// A state this version of Helios does not know.
    case other(String)

    public init(_ name: String) {
        switch name {
        case "created": self = .created
        case "running": self = .running
        case "paused": self = .paused
        case "restarting": self = .restarting
        case "removing": self = .removing
        case "exited": self = .exited
        case "dead": self = .dead
        default: self = .other(name)
        }
    }

    /// A process runs (or is about to again): stopping it takes a stop.
    public var isAlive: Bool { self == .running || self == .restarting || self == .paused }
    /// It ran and ended.
    public var hasEnded: Bool { self == .exited || self == .dead }
}

/// A container as `GET /containers/json` lists it.
public struct ContainerSummary: Sendable, Decodable, Equatable {
    public let id: String
    public let names: [String]
    public let image: String
    public let state: ContainerState
    public let labels: [String: String]
    /// Seconds since the epoch.
    public let created: Int64

    /// The container's name without Docker's leading `/`.
    public var name: String { names.first.map { String($0.drop { $0 == "/" }) } ?? id }

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", labels = "Labels", created = "Created"
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        id = try values.decode(String.self, forKey: .id)
        names = try values.decodeIfPresent([String].self, forKey: .names) ?? []
        image = try values.decode(String.self, forKey: .image)
        state = ContainerState(try values.decode(String.self, forKey: .state))
        labels = try values.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        created = try values.decodeIfPresent(Int64.self, forKey: .created) ?? 0
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

        /// Why a container that is not running ended: Docker's error, else its exit status.
        public var exitDescription: String {
            error.isEmpty ? "exited with status \(exitCode)" : error
        }

        /// `startedAt` and `finishedAt` as moments, to the nanosecond Docker gives; nil for its
        /// zero time (a container never started, or not yet ended).
        public var started: Date? { Date(dockerTime: startedAt) }
        public var finished: Date? { Date(dockerTime: finishedAt) }
    }

    /// What the container was created with, as Docker reports it.
    public struct Config: Sendable, Decodable, Equatable {
        public let env: [String]
        public let labels: [String: String]
        public let hostname: String

        enum CodingKeys: String, CodingKey { case env = "Env", labels = "Labels", hostname = "Hostname" }

        public init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            env = try values.decodeIfPresent([String].self, forKey: .env) ?? []
            labels = try values.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            hostname = try values.decodeIfPresent(String.self, forKey: .hostname) ?? ""
        }
    }

    public struct HostConfig: Sendable, Decodable, Equatable {
        public struct Binding: Sendable, Decodable, Equatable {
            public let hostIP: String
            public let hostPort: String
            enum CodingKeys: String, CodingKey { case hostIP = "HostIp", hostPort = "HostPort" }
        }

        /// `80/tcp` → its bindings.
        public let portBindings: [String: [Binding]]
        public let binds: [String]
        public let tmpfs: [String: String]
        public let memory: Int64
        public let cpuShares: Int64
        public let networkMode: String
        public let capAdd: [String]
        public let capDrop: [String]
        public let securityOpt: [String]

        enum CodingKeys: String, CodingKey {
            case portBindings = "PortBindings", binds = "Binds", tmpfs = "Tmpfs", memory = "Memory",
                 cpuShares = "CpuShares", networkMode = "NetworkMode", capAdd = "CapAdd", capDrop = "CapDrop",
                 securityOpt = "SecurityOpt"
        }

        public init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            portBindings = try values.decodeIfPresent([String: [Binding]?].self, forKey: .portBindings)?
                .compactMapValues { $0 } ?? [:]
            binds = try values.decodeIfPresent([String].self, forKey: .binds) ?? []
            tmpfs = try values.decodeIfPresent([String: String].self, forKey: .tmpfs) ?? [:]
            memory = try values.decodeIfPresent(Int64.self, forKey: .memory) ?? 0
            cpuShares = try values.decodeIfPresent(Int64.self, forKey: .cpuShares) ?? 0
            networkMode = try values.decodeIfPresent(String.self, forKey: .networkMode) ?? ""
            capAdd = try values.decodeIfPresent([String].self, forKey: .capAdd) ?? []
            capDrop = try values.decodeIfPresent([String].self, forKey: .capDrop) ?? []
            securityOpt = try values.decodeIfPresent([String].self, forKey: .securityOpt) ?? []
        }
    }

    public let id: String
    public let name: String
    public let state: State
    public let config: Config
    public let hostConfig: HostConfig

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", state = "State", config = "Config", hostConfig = "HostConfig"
    }
}

extension DockerClient {
    /// Creates a container named `name` and returns its id.
    public func createContainer(name: String, spec: ContainerSpec) async throws -> String {
        struct Binding: Encodable {
            let HostIp: String
            let HostPort: String
        }
        struct Host: Encodable {
            let PortBindings: [String: [Binding]]
            let Binds: [String]
            let Tmpfs: [String: String]
            let Memory: Int64?
            let MemorySwap: Int64?
            let CpuShares: Int64?
            let CpusetCpus: String?
            let NetworkMode: String?
            let CapAdd: [String]
            let CapDrop: [String]
            let SecurityOpt: [String]
        }
        struct Empty: Encodable {}
        struct Request: Encodable {
            let Image: String
            let Cmd: [String]?
            let Env: [String]
            let Labels: [String: String]
            let Hostname: String?
            let ExposedPorts: [String: Empty]
            let Volumes: [String: Empty]
            let HostConfig: Host
        }
        struct Created: Decodable { let Id: String }
        let key = { (port: PublishedPort) in "\(port.containerPort)/\(port.protocol)" }
        let body = try JSONEncoder().encode(Request(
            Image: spec.image, Cmd: spec.command,
            Env: spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            Labels: spec.labels, Hostname: spec.hostname,
            ExposedPorts: Dictionary(spec.ports.map { (key($0), Empty()) }, uniquingKeysWith: { first, _ in first }),
            // `/host:/container` binds a host path; a lone `/container` is an anonymous volume.
            Volumes: Dictionary(spec.volumes.filter { !$0.contains(":") }.map { ($0, Empty()) }, uniquingKeysWith: { first, _ in first }),
            HostConfig: Host(
                PortBindings: Dictionary(grouping: spec.ports, by: key).mapValues { ports in
                    ports.map { Binding(HostIp: $0.hostIP, HostPort: "\($0.hostPort)") }
                },
                Binds: spec.volumes.filter { $0.contains(":") }, Tmpfs: spec.tmpfs, Memory: spec.memory, MemorySwap: spec.memorySwap,
                CpuShares: spec.cpuShares, CpusetCpus: spec.cpuset, NetworkMode: spec.networkMode,
                CapAdd: spec.addCapabilities, CapDrop: spec.dropCapabilities, SecurityOpt: spec.securityOptions)))
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

    /// Stops a container: SIGTERM, then SIGKILL after `timeout` (whole seconds, rounded up).
    /// Stopping a stopped one is not an error.
    public func stopContainer(_ id: String, timeout: Duration = .seconds(10)) async throws {
        let seconds = timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0)
        let reply = try await call("POST", "/containers/\(Self.escape(id))/stop?t=\(seconds)",
                                   timeout: .seconds(seconds + 60))
        guard reply.status == 204 || reply.status == 304 else { throw error(reply, "stop container \(id)") }
    }

    /// Sends `signal` to a running container's main process (SIGKILL by default).
    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws {
        let reply = try await call("POST", "/containers/\(Self.escape(id))/kill?signal=\(Self.escape(signal))")
        guard reply.status == 204 else { throw error(reply, "kill container \(id)") }
    }

    /// Waits until the container is not running and returns its exit code; returns at once when
    /// it is not running now.
    public func waitContainer(_ id: String) async throws -> Int {
        struct Exit: Decodable { let StatusCode: Int }
        let operation = "wait for container \(id)"
        let reply = try await call("POST", "/containers/\(Self.escape(id))/wait?condition=not-running", timeout: nil)
        guard reply.status == 200 else { throw error(reply, operation) }
        return try decode(Exit.self, reply, operation).StatusCode
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
}

extension Date {
    /// A time as the Engine API writes it: RFC 3339 in UTC with up to nine fraction digits
    /// (trailing zeros trimmed). nil for anything else, and for Docker's zero time
    /// (`0001-01-01T00:00:00Z`: never happened).
    public init?(dockerTime text: String) {
        let parts = text.dropLast().split(separator: ".", maxSplits: 1)
        guard text.hasSuffix("Z"), let first = parts.first,
              let whole = ISO8601DateFormatter().date(from: first + "Z"), whole.timeIntervalSince1970 > 0 else { return nil }
        self = whole.addingTimeInterval(parts.count == 2 ? Double("0." + parts[1]) ?? 0 : 0)
    }
}
