import Foundation

/// An immutable, versioned container spec (`kind: Job`), with Helios' fields.
///
/// Optional fields are nil when unset; `normalised()` also turns values equal to their
/// default (and empty collections) into nil, so that a job spelled with explicit defaults
/// hashes like one without them.
public struct Job: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    /// A Docker image reference.
    public var image: String
    /// The container's command; nil runs the image's default.
    public var command: [String]?
    public var env: [String: String]?
    /// Env values each agent reads from its host's secrets directory: env name → secret name.
    /// The value is never in git, ZooKeeper, a plan or an API reply; only the name is.
    public var secrets: [String: String]?
    /// Named ports: `HELIOS_PORT_<name>` in the container's environment.
    public var ports: [String: PortMapping]?
    public var healthCheck: HealthCheck?
    /// Milliseconds between "stopping" and `docker stop` (default 0).
    public var gracePeriod: Int64?
    /// Milliseconds `docker stop` waits before it kills (default 10 000).
    public var stopTimeout: Int64?
    /// Docker bind specs: `/host:/container[:ro|rw]` or `/container` (an anonymous volume).
    public var volumes: [String]?
    /// tmpfs mounts: container path → mount options (`rw,size=64m`).
    public var ramdisks: [String: String]?
    public var resources: Resources?
    /// `bridge` (default), `host`, `none` or `container:<name>`.
    public var networkMode: String?
    public var hostname: String?
    /// Become Docker labels.
    public var labels: [String: String]?
    /// Stored only.
    public var metadata: [String: String]?
    public var addCapabilities: [String]?
    public var dropCapabilities: [String]?
    public var securityOpt: [String]?
    /// Service registrations: `service/protocol` → the port it is reached on.
    public var registration: [String: Registration]?
    /// After this instant the job is undeployed and removed.
    public var expires: Date?
    /// Env names whose values are secret besides those that look it (`Secrets`): never printed,
    /// never in an API reply.
    public var sensitive: [String]?

    public static let defaultStopTimeout: Int64 = 10_000
    public static let defaultNetworkMode = "bridge"

    public init(name: String, version: String, image: String, command: [String]? = nil) {
        self.name = name
        self.version = version
        self.image = image
        self.command = command
    }

    /// `name:version:hash`, where the hash covers the normalised job.
    public var id: JobID { canonicalForm.id }

    /// The canonical JSON (what ZooKeeper stores) and the id that hashes it, computed once.
    public var canonicalForm: (json: Data, id: JobID) {
        let json = canonicalJSON
        return (json, JobID(name: name, version: version, hash: SHA1.hex(json)))
    }

    /// The normalised job as canonical JSON: sorted keys, defaults and empty values left
    /// out, durations in milliseconds.
    public var canonicalJSON: Data {
        CanonicalJSON.encode(normalised())
    }

    /// The same job with every default and every empty value unset.
    public func normalised() -> Job {
        var job = self
        job.command = job.command.nilIfEmpty
        job.env = job.env.nilIfEmpty
        job.secrets = job.secrets.nilIfEmpty
        job.ports = job.ports.map { $0.mapValues { $0.normalised() } }.nilIfEmpty
        job.gracePeriod = job.gracePeriod == 0 ? nil : job.gracePeriod
        job.stopTimeout = job.stopTimeout == Self.defaultStopTimeout ? nil : job.stopTimeout
        job.volumes = job.volumes.nilIfEmpty
        job.ramdisks = job.ramdisks.nilIfEmpty
        job.resources = job.resources?.normalised()
        job.networkMode = job.networkMode == Self.defaultNetworkMode ? nil : job.networkMode.nilIfEmpty
        job.hostname = job.hostname.nilIfEmpty
        job.labels = job.labels.nilIfEmpty
        job.metadata = job.metadata.nilIfEmpty
        job.addCapabilities = job.addCapabilities.nilIfEmpty
        job.dropCapabilities = job.dropCapabilities.nilIfEmpty
        job.securityOpt = job.securityOpt.nilIfEmpty
        job.registration = job.registration.nilIfEmpty
        job.sensitive = job.sensitive.map { Array(Set($0)).sorted() }.nilIfEmpty
        return job
    }

    /// Whether the value of env `name` is a secret: it looks like one, or the job says so.
    public func isSensitive(_ name: String) -> Bool {
        sensitive?.contains(name) == true || Secrets.isSensitive(name, value: env?[name])
    }

    /// The job as it may be shown: secret env values replaced by `Secrets.mask`.
    public func masked() -> Job {
        var job = self
        job.env = env.map { env in Dictionary(uniqueKeysWithValues: env.map { ($0.key, isSensitive($0.key) ? Secrets.mask : $0.value) }) }
        return job
    }

    /// The stop timeout in effect.
    public var effectiveStopTimeout: Int64 { stopTimeout ?? Self.defaultStopTimeout }
}

/// A container port and where the host publishes it.
public struct PortMapping: Sendable, Equatable, Codable {
    /// `HELIOS_PORT_<NAME>`, the variable that tells the container where port `name` is
    /// published: the name upper-cased, anything but letters and digits as `_`. Two names that
    /// give one variable are refused at validation.
    public static func environmentName(_ name: String) -> String {
        "HELIOS_PORT_" + String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public var `internal`: Int
    /// nil: a dynamic port from the agent's range.
    public var external: Int?
    /// `tcp` (default) or `udp`.
    public var `protocol`: String?

    public init(internal: Int, external: Int? = nil, protocol: String? = nil) {
        self.internal = `internal`
        self.external = external
        self.protocol = `protocol`
    }

    public var effectiveProtocol: String { `protocol` ?? "tcp" }

    func normalised() -> PortMapping {
        var port = self
        if port.protocol == "tcp" { port.protocol = nil }
        return port
    }
}

/// How the agent tells a container is healthy. Exactly one kind.
public struct HealthCheck: Sendable, Equatable, Codable {
    public struct HTTP: Sendable, Equatable, Codable {
        /// A port name of the job.
        public var port: String
        public var path: String
        public init(port: String, path: String) {
            self.port = port
            self.path = path
        }
    }

    public struct TCP: Sendable, Equatable, Codable {
        public var port: String
        public init(port: String) { self.port = port }
    }

    public var http: HTTP?
    public var tcp: TCP?
    /// A command run in the container; exit 0 is healthy.
    public var exec: [String]?

    public init(http: HTTP? = nil, tcp: TCP? = nil, exec: [String]? = nil) {
        self.http = http
        self.tcp = tcp
        self.exec = exec
    }

    /// The port name the check connects to, if any.
    public var portName: String? { http?.port ?? tcp?.port }
}

/// Container resource limits.
public struct Resources: Sendable, Equatable, Codable {
    /// Bytes.
    public var memory: Int64?
    /// Bytes of memory plus swap.
    public var memorySwap: Int64?
    public var cpuShares: Int64?
    /// CPUs the container may use, `0-3` or `0,1`.
    public var cpuset: String?

    public init(memory: Int64? = nil, memorySwap: Int64? = nil, cpuShares: Int64? = nil, cpuset: String? = nil) {
        self.memory = memory
        self.memorySwap = memorySwap
        self.cpuShares = cpuShares
        self.cpuset = cpuset
    }

    func normalised() -> Resources? {
        var resources = self
        resources.cpuset = resources.cpuset.nilIfEmpty
        return resources == Resources() ? nil : resources
    }
}

/// A service registration: the job's port that serves it.
public struct Registration: Sendable, Equatable, Codable {
    public var port: String
    public init(port: String) { self.port = port }
}

extension Optional where Wrapped: Collection {
    /// nil for an empty collection, so that "empty" and "unset" normalise alike.
    var nilIfEmpty: Wrapped? {
        switch self {
        case .some(let value) where value.isEmpty: nil
        default: self
        }
    }
}

/// A job's identity: `name:version:hash`.
public struct JobID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let name: String
    public let version: String
    /// The SHA-1 of the job's canonical JSON, as hex.
    public let hash: String

    public init(name: String, version: String, hash: String) {
        self.name = name
        self.version = version
        self.hash = hash
    }

    /// Parses `name:version:hash`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, Names.isValid(parts[0]), Names.isValid(parts[1]),
              !parts[2].isEmpty, parts[2].allSatisfy(\.isHexDigit) else { return nil }
        self.init(name: parts[0], version: parts[1], hash: parts[2])
    }

    public var description: String { "\(name):\(version):\(hash)" }

    /// The form shown to people: the hash cut to 8 digits.
    public var short: String { "\(name):\(version):\(hash.prefix(8))" }

    /// `name:version`, the part people write in manifests.
    public var nameAndVersion: String { "\(name):\(version)" }

    /// The hash names the job alone (it covers name and version): hashing it is enough and
    /// keeps dictionaries of 50,000 tasks cheap.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }

    /// By name, then version, then hash.
    public static func < (lhs: JobID, rhs: JobID) -> Bool {
        (lhs.name, lhs.version, lhs.hash) < (rhs.name, rhs.version, rhs.hash)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = JobID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a job id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
