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

    public init(name: String, zooKeeper: String, chroot: String = "/helios", dockerSocket: String,
                reconcileInterval: Duration = .seconds(30), sessionTimeout: Duration = .seconds(10)) {
        self.name = name
        self.zooKeeper = zooKeeper
        self.chroot = chroot
        self.dockerSocket = dockerSocket
        self.reconcileInterval = reconcileInterval
        self.sessionTimeout = sessionTimeout
    }
}
