import Foundation
import DockerEngine
import HeliosModel

/// Host ports for tasks' ports: a static port is its `external`; a dynamic one the lowest port
/// of the agent's range that no container of this host holds and nothing listens on.
/// Containers record theirs in the `helios.ports` label (`name=port,…`), so an allocation
/// outlives the agent.
struct PortAllocator {
    static let label = "helios.ports"
    let range: ClosedRange<Int>

    /// The host port of every port of `job`, or nil when the range is exhausted.
    func allocate(_ job: Job, taken: inout Set<Int>) -> [String: Int]? {
        var ports: [String: Int] = [:]
        for (name, mapping) in (job.ports ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let external = mapping.external {
                ports[name] = external
                continue
            }
            guard let port = range.first(where: { !taken.contains($0) && Self.isFree($0) }) else { return nil }
            ports[name] = port
            taken.insert(port)
        }
        return ports
    }

    /// `name=port,…` for the label.
    static func encode(_ ports: [String: Int]) -> String {
        ports.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The ports a `helios.ports` label holds.
    static func decode(_ label: String?) -> [String: Int] {
        var ports: [String: Int] = [:]
        for pair in (label ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let port = Int(parts[1]) { ports[String(parts[0])] = port }
        }
        return ports
    }

    /// `HELIOS_PORT_<NAME>=127.0.0.1:<port>`, where the container is reachable from the host.
    /// Names that give one variable (refused at validation, but a task may predate that) never
    /// stop the agent: the first by name wins.
    static func environment(_ ports: [String: Int]) -> [String: String] {
        Dictionary(ports.sorted { $0.key < $1.key }.map { (PortMapping.environmentName($0.key), "127.0.0.1:\($0.value)") },
                   uniquingKeysWith: { first, _ in first })
    }

    /// Whether nothing listens on the port on loopback (Docker would fail to publish it).
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withLoopbackAddress(port: port) { bind(fd, $0, $1) } == 0
    }
}

/// Calls `body` with the socket address 127.0.0.1:`port`.
func withLoopbackAddress<T>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// The host ports this host's containers hold, shared by the task supervisors: those in
/// containers' labels as of the last pass, and those handed to a container being created.
actor PortLedger {
    let allocator: PortAllocator
    private var labelled: Set<Int> = []
    private var reserved: [JobID: Set<Int>] = [:]

    init(allocator: PortAllocator) {
        self.allocator = allocator
    }

    var range: ClosedRange<Int> { allocator.range }

    /// Learns the ports containers hold; a reservation ends once its container is listed.
    func refresh(_ containers: [ContainerSummary], jobLabel: String) {
        labelled = Set(containers.flatMap { PortAllocator.decode($0.labels[PortAllocator.label]).values })
        for container in containers {
            if let id = container.labels[jobLabel].flatMap(JobID.init) { reserved[id] = nil }
        }
    }

    /// Host ports for `job`'s container, reserved until a pass lists it (or `release`).
    func allocate(_ job: Job, for id: JobID) -> [String: Int]? {
        var taken = labelled.union(reserved.values.joined())
        guard let ports = allocator.allocate(job, taken: &taken) else { return nil }
        reserved[id] = Set(ports.values)
        return ports
    }

    /// The container was not created after all.
    func release(_ id: JobID) {
        reserved[id] = nil
    }
}
