import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport

/// The cluster under test: a 3-member ZooKeeper ensemble, two masters following a git remote
/// over HTTP, three agents on one dockerd. Every process is real; the faults act on them.
final class ChaosCluster: @unchecked Sendable {
    // @unchecked: driven from the one chaos task; the monitor only reads `agentIDs` and `hosts`.
    static let masterSessionTimeout: Duration = .seconds(4)
    static let agentSessionTimeout: Duration = .seconds(4)
    static let gitTimeout: Duration = .seconds(4)
    static let chroot = "/helios-chaos"

    let directory: TemporaryDirectory
    let ensemble: ZooKeeperEnsemble
    let git: GitFixture
    let gitServer: GitHTTPServer
    /// Between the masters and the git server: paused, the remote accepts and never answers.
    let gitProxy: TCPProxy
    /// Between the last agent and its ZooKeeper member: paused past the session timeout, the
    /// ensemble expires the agent's session.
    let agentProxy: TCPProxy
    let dockerSocket: String
    let hosts = ["chaos-h1", "chaos-h2", "chaos-h3"]
    private(set) var masters: [String: Daemon] = [:]
    private(set) var masterPorts: [String: Int] = [:]
    private(set) var agents: [String: Daemon] = [:]
    private var restarts: [String: Int] = [:]

    init(dockerSocket: String) throws {
        self.dockerSocket = dockerSocket
        directory = try TemporaryDirectory("chaos")
        ensemble = try ZooKeeperEnsemble(size: 3)
        git = try GitFixture()
        gitServer = try GitHTTPServer(serving: git.directory.path)
        gitProxy = try TCPProxy(to: gitServer.port)
        agentProxy = try TCPProxy(to: ensemble.members[0].clientPort)
        try gitServer.password.write(toFile: directory.path + "/git-password", atomically: true, encoding: .utf8)
        for name in ["m1", "m2"] { masterPorts[name] = try freeLoopbackPort() }
    }

    var masterNames: [String] { masterPorts.keys.sorted() }

    func start() async throws {
        try await ensemble.start()
        for name in masterNames { try startMaster(name) }
        for host in hosts { try startAgent(host) }
    }

    func startMaster(_ name: String) throws {
        masters[name] = try Daemon(name: logName(name), executable: heliosExecutable, arguments: [
            "master", "--zk", ensemble.connectString, "--chroot", Self.chroot,
            "--repo", "http://127.0.0.1:\(gitProxy.port)/remote.git", "--git-username", gitServer.user,
            "--git-password-file", directory.path + "/git-password", "--poll", "1s",
            "--git-timeout", "\(Int(Self.gitTimeout.components.seconds))s",
            "--state-dir", directory.path + "/" + name, "--http", "127.0.0.1:\(masterPorts[name]!)",
            "--session-timeout", "\(Int(Self.masterSessionTimeout.components.seconds))s",
        ], directory: directory)
    }

    func startAgent(_ host: String) throws {
        // The last agent reaches ZooKeeper through the proxy only.
        let servers = host == hosts.last ? "127.0.0.1:\(agentProxy.port)" : ensemble.connectString
        agents[host] = try Daemon(name: logName(host), executable: heliosExecutable, arguments: [
            "agent", "--zk", servers, "--chroot", Self.chroot, "--name", host,
            "--docker-socket", dockerSocket, "--reconcile-interval", "2s", "--state-dir", stateDirectory(host),
            "--labels", "role=chaos", "--session-timeout", "\(Int(Self.agentSessionTimeout.components.seconds))s",
            "--port-range", "41000-41999",
        ], directory: directory)
    }

    func stateDirectory(_ host: String) -> String { directory.path + "/" + host }

    /// The id an agent of `host` registers with (kept in its state directory across restarts).
    func agentID(_ host: String) -> String? {
        (try? String(contentsOfFile: stateDirectory(host) + "/agent-id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Each start of a process gets a log of its own: `m1.log`, `m1-2.log`, …
    private func logName(_ name: String) -> String {
        restarts[name, default: 0] += 1
        return restarts[name]! == 1 ? name : "\(name)-\(restarts[name]!)"
    }

    func masterURL(_ name: String) -> String { "http://127.0.0.1:\(masterPorts[name]!)" }

    /// The master that says it leads, if exactly one of the running ones does.
    func leader() async -> String? {
        var leading: [String] = []
        for name in masterNames where masters[name]?.isRunning == true {
            struct Masters: Decodable { let leading: Bool }
            guard let url = URL(string: masterURL(name) + "/v1/masters"),
                  let (body, _) = try? await URLSession.shared.data(from: url),
                  let view = try? JSONDecoder().decode(Masters.self, from: body) else { continue }
            if view.leading { leading.append(name) }
        }
        return leading.count == 1 ? leading[0] : nil
    }

    func stop() async {
        for daemon in Array(agents.values) + Array(masters.values) { daemon.kill() }
        agentProxy.stop()
        gitProxy.stop()
        gitServer.stop()
        ensemble.remove()
    }

    /// Where the logs are kept when the run found violations.
    func keepLogs() -> String { directory.path }

    func removeFiles() {
        git.remove()
        directory.remove()
    }
}
