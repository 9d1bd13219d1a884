import HeliosModel
import DockerEngine
import Foundation
import HeliosStore

/// How an agent runs.
public struct AgentConfiguration: Sendable {
    /// The host's name in Helios: deployments name it in `hosts`.
    public var name: String
    /// ZooKeeper's `host:port[,…]`.
    public var zooKeeper: String
    public var chroot: String
    /// The Docker engine's unix socket.
    public var dockerSocket: String
    /// A full reconcile pass runs at least this often, watch events or not.
    public var reconcileInterval: Duration
    public var sessionTimeout: Duration
    /// Where the agent keeps its id across restarts.
    public var stateDirectory: String
    /// Host ports for dynamic task ports.
    public var portRange: ClosedRange<Int>
    /// The host's labels, matched by deployments' host selectors.
    public var labels: [String: String]
    /// The docker config file whose registry credentials image pulls use.
    public var dockerConfig: String
    /// What the host lets a job do (host directories, capabilities, …); refused tasks FAIL.
    public var policy = HostPolicy()
    /// The directory of this host's secrets (one file per secret); nil: jobs with secrets FAIL here.
    public var secretsDirectory: String?
    /// The agents' shared ZooKeeper identity and this host's own; `.open` without them.
    public var zooKeeperSecurity: StoreSecurity = .open

    public init(name: String, zooKeeper: String, chroot: String = "/helios", dockerSocket: String,
                reconcileInterval: Duration = .seconds(30), sessionTimeout: Duration = .seconds(10),
                stateDirectory: String? = nil, portRange: ClosedRange<Int> = 20_000...32_767,
                labels: [String: String] = [:], dockerConfig: String = DockerConfig.defaultPath) {
        self.name = name
        self.zooKeeper = zooKeeper
        self.chroot = chroot
        self.dockerSocket = dockerSocket
        self.reconcileInterval = reconcileInterval
        self.sessionTimeout = sessionTimeout
        self.stateDirectory = stateDirectory ?? "/var/lib/helios/agent-\(name)"
        self.portRange = portRange
        self.labels = labels
        self.dockerConfig = dockerConfig
    }
}

/// The agent's id: made once, kept in the state directory, so that a restarted agent is
/// known as the same one and another agent under the same host name is not.
enum AgentIdentity {
    static func load(from directory: String) throws -> String {
        let file = URL(fileURLWithPath: directory).appendingPathComponent("agent-id")
        if let text = try? String(contentsOf: file, encoding: .utf8),
           let id = UUID(uuidString: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return id.uuidString.lowercased()
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        try Data((id + "\n").utf8).write(to: file, options: .atomic)
        return id
    }
}
