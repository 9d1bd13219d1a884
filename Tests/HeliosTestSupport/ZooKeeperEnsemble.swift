import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A ZooKeeper ensemble of its own on loopback (`QuorumPeerMain`), whose members a test kills
/// and restarts: one down keeps the quorum, two of three lose it.
public final class ZooKeeperEnsemble: @unchecked Sendable {
    // @unchecked: only the owner touches it.
    public final class Member: @unchecked Sendable {
        public let id: Int
        public let clientPort: Int
        let directory: URL
        fileprivate var process: Process?

        init(id: Int, clientPort: Int, directory: URL) {
            self.id = id
            self.clientPort = clientPort
            self.directory = directory
        }

        public var isRunning: Bool { process?.isRunning == true }
    }

    public let members: [Member]
    private let directory: TemporaryDirectory

    /// `host:port,…` of every member.
    public var connectString: String { members.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",") }

    public init(size: Int = 3) throws {
        let directory = try TemporaryDirectory("zookeeper-ensemble")
        self.directory = directory
        let ports = try (0..<size).map { _ in (try freeLoopbackPort(), try freeLoopbackPort(), try freeLoopbackPort()) }
        let servers = ports.enumerated().map { "server.\($0.offset + 1)=127.0.0.1:\($0.element.1):\($0.element.2)" }
        members = try ports.enumerated().map { index, port in
            let member = Member(id: index + 1, clientPort: port.0,
                                directory: directory.url.appendingPathComponent("member-\(index + 1)"))
            let data = member.directory.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try "\(member.id)\n".write(to: data.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
            try ([
                "tickTime=500", "initLimit=20", "syncLimit=10", "dataDir=\(data.path)",
                "clientPort=\(member.clientPort)", "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                "4lw.commands.whitelist=*", "maxClientCnxns=0", "maxSessionTimeout=20000",
            ] + servers).joined(separator: "\n").write(to: member.directory.appendingPathComponent("zoo.cfg"),
                                                        atomically: true, encoding: .utf8)
            return member
        }
    }

    /// Starts every member and waits until the ensemble serves.
    public func start() async throws {
        for member in members { try launch(member) }
        guard await eventually(timeout: .seconds(90), { self.serves() }) else {
            throw MissingService(name: "a ZooKeeper ensemble on \(connectString)")
        }
    }

    /// Starts a member again (same port and data) after a kill.
    public func restart(_ member: Member) throws {
        guard !member.isRunning else { return }
        try launch(member)
    }

    /// SIGKILL: the member dies as in a crash.
    public func kill(_ member: Member) {
        guard let process = member.process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        member.process = nil
    }

    /// Whether a majority of members serve requests (`srvr` names a leader or follower mode).
    public func serves() -> Bool {
        members.filter { Self.mode(of: $0) != nil }.count > members.count / 2
    }

    public func remove() {
        for member in members { kill(member) }
        directory.remove()
    }

    private func launch(_ member: Member) throws {
        member.process = try launchZooKeeper(main: "org.apache.zookeeper.server.quorum.QuorumPeerMain", in: member.directory,
                                             options: ["-Xmx192m"])
    }

    /// `leader`, `follower`, or nil when the member does not serve.
    public static func mode(of member: Member) -> String? {
        guard let reply = zooKeeperReply("srvr", port: member.clientPort),
              let line = reply.split(separator: "\n").first(where: { $0.hasPrefix("Mode: ") }) else { return nil }
        return String(line.dropFirst("Mode: ".count))
    }
}
