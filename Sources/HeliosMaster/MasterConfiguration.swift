import Git
import HeliosStore

/// How a master runs.
public struct MasterConfiguration: Sendable {
    /// ZooKeeper's `host:port[,…]`.
    public var zooKeeper: String
    public var chroot: String
    /// The manifest repository; nil serves a CLI-driven cluster.
    public var repository: String?
    public var branch: String
    /// The repository folder holding the manifests; empty: all of it.
    public var subpath: String
    /// How to sign in to the repository's remote (https or ssh).
    public var gitCredentials: GitCredentials?
    public var pollInterval: Duration
    /// How long one fetch of the repository may take before it counts as failed.
    public var fetchTimeout: Duration
    /// Where the master keeps its bare mirror of the repository.
    public var mirrorPath: String
    /// The HTTP API's address.
    public var httpHost: String
    public var httpPort: Int
    /// The ZooKeeper session timeout: how long a master that dies keeps the lead.
    public var sessionTimeout: Duration
    /// Who may call the API (tokens, open reads, served Host names).
    public var access = APIAccessPolicy()
    /// The master's ZooKeeper identity, which owns a secured tree; `.open` without one.
    public var zooKeeperSecurity: StoreSecurity = .open
    /// The dashboard links a diagnostic's file:line here: a URL with `{revision}`, `{file}`, `{line}`.
    public var repoBrowseURL: String?
    /// The API's certificate and key (`--tls-cert`, `--tls-key`); nil serves plain HTTP.
    public var tls: TLSFiles?
    /// With `--require-signed-commits`: only commits signed by these keys are applied.
    public var commitVerifier: CommitVerifier?

    public init(zooKeeper: String, chroot: String = "/helios", repository: String?, branch: String = "main", subpath: String = "",
                gitCredentials: GitCredentials? = nil,
                pollInterval: Duration = .seconds(5), fetchTimeout: Duration = .seconds(60), mirrorPath: String,
                httpHost: String = "127.0.0.1", httpPort: Int = 5801, sessionTimeout: Duration = .seconds(10)) {
        self.zooKeeper = zooKeeper
        self.chroot = chroot
        self.repository = repository
        self.branch = branch
        self.subpath = subpath
        self.gitCredentials = gitCredentials
        self.pollInterval = pollInterval
        self.fetchTimeout = fetchTimeout
        self.mirrorPath = mirrorPath
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.sessionTimeout = sessionTimeout
    }
}
