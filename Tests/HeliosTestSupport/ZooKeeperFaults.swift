import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, found from this file.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// A loopback TCP forwarder (scripts/tcp-proxy.py) between a client and a server. `pause()`
/// freezes it (SIGSTOP): the connection stays open but nothing passes, a network partition
/// after which the server expires the client's session for real.
public final class TCPProxy: @unchecked Sendable {
    // @unchecked: the Process is only touched from the test that owns the proxy.
    public let port: Int
    private let process: Process

    public init(to target: Int) throws {
        port = try freeLoopbackPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/tcp-proxy.py").path,
                             "\(port)", "\(target)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // It prints one line once it listens.
        _ = output.fileHandleForReading.availableData
    }

    public func pause() { kill(process.processIdentifier, SIGSTOP) }
    public func resume() { kill(process.processIdentifier, SIGCONT) }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A ZooKeeper server's answer to a four-letter command (`srvr`, `mntr`) on a loopback port;
/// nil when nothing listens.
func zooKeeperReply(_ command: String, port: Int) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard withLoopbackAddress(port: port, { connect(fd, $0, $1) }) == 0 else { return nil }
    _ = command.withCString { send(fd, $0, strlen($0), 0) }
    var reply = Data()
    var buffer = [UInt8](repeating: 0, count: 1024)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { break }
        reply.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: reply, as: UTF8.self)
}

/// Starts the ZooKeeper server class `main` with `<directory>/zoo.cfg`, its output appended to
/// `<directory>/server.log`.
func launchZooKeeper(main: String, in directory: URL, options: [String] = []) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["java"] + options + ["-Dzookeeper.log.dir=\(directory.path)", "-cp", "/usr/share/java/*:/etc/zookeeper/conf",
                                              main, directory.path + "/zoo.cfg"]
    let log = directory.appendingPathComponent("server.log")
    if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
    let handle = try FileHandle(forWritingTo: log)
    handle.seekToEndOfFile()
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    return process
}

/// A ZooKeeper server of a test's own, to kill and restart without disturbing other tests.
public final class PrivateZooKeeperServer: @unchecked Sendable {
    // @unchecked: only the owning test touches it.
    public let port: Int
    public var address: String { "127.0.0.1:\(port)" }
    private let directory: TemporaryDirectory
    private var process: Process?

    public init() throws {
        port = try freeLoopbackPort()
        directory = try TemporaryDirectory("zookeeper")
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("data"),
                                                withIntermediateDirectories: true)
        try """
            tickTime=500
            dataDir=\(directory.path)/data
            clientPort=\(port)
            clientPortAddress=127.0.0.1
            admin.enableServer=false
            """.write(to: directory.url.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
    }

    /// Starts the server (on the same port and data as before, after a `kill`) and waits until it answers.
    public func start() async throws {
        process = try launchZooKeeper(main: "org.apache.zookeeper.server.ZooKeeperServerMain", in: directory.url)
        let answered = await eventually(timeout: .seconds(60)) { answersRuok() }
        guard answered else { throw MissingService(name: "a private ZooKeeper server on \(address)") }
    }

    /// SIGKILL: the server dies as in a crash.
    public func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    public func remove() {
        kill()
        directory.remove()
    }

    private func answersRuok() -> Bool {
        !(zooKeeperReply("srvr", port: port) ?? "").isEmpty
    }
}
