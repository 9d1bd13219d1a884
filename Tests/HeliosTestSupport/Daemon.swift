import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running process a system test starts (a master, an agent), with its output in a
/// log file that a failing test can show.
public final class Daemon: @unchecked Sendable {
    // @unchecked: the Process is only touched from the test that owns the daemon.
    public let name: String
    public let logFile: URL
    private let process: Process

    /// Starts `executable` with `arguments`; output goes to `<directory>/<name>.log`.
    public init(name: String, executable: URL, arguments: [String], directory: TemporaryDirectory,
                environment: [String: String] = [:]) throws {
        self.name = name
        logFile = directory.url.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// The process's output so far.
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then SIGKILL when it has not exited after `timeout`.
    public func stop(timeout: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGKILL, as a crash would end it, and waits for the exit.
    public func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The exit status once stopped.
    public var exitStatus: Int32 { process.terminationStatus }
}

/// The `helios` binary built next to the test bundle (or `HELIOS_BIN`).
public var heliosExecutable: URL {
    if let path = ProcessInfo.processInfo.environment["HELIOS_BIN"] { return URL(fileURLWithPath: path) }
    return builtExecutable("helios")
}

/// The `helios-agent` binary built next to the test bundle (or `HELIOS_AGENT_BIN`).
public var heliosAgentExecutable: URL {
    if let path = ProcessInfo.processInfo.environment["HELIOS_AGENT_BIN"] { return URL(fileURLWithPath: path) }
    return builtExecutable("helios-agent")
}

private func builtExecutable(_ name: String) -> URL {
    let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = testBinary.deletingLastPathComponent()
    // The test binary may sit inside an .xctest bundle directory.
    while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS" {
        directory.deleteLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
public func freeLoopbackPort() throws -> Int {
    try RefusingLoopbackPort().port // closed again at once
}

/// A TCP port on 127.0.0.1 that refuses connections for as long as this lives: bound, never
/// listened on, so nothing else can take it meanwhile (a port from `freeLoopbackPort` is free
/// only at the moment it is chosen; another test's server may bind it next).
public final class RefusingLoopbackPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        guard withLoopbackAddress(port: 0, { bind(fd, $0, $1) }) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// Calls `body` (`bind`, `connect`) with 127.0.0.1:`port` as a socket address and its length.
func withLoopbackAddress(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// The test binary running now: a test can start it again to run one test as a child process
/// (one it can kill at a chosen point), selected with `--filter`.
public var testExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

/// The arguments that make the test binary run only the Swift Testing tests matching `filter`.
public func childTestArguments(_ filter: String) -> [String] {
    ["--testing-library", "swift-testing", "--filter", filter]
}

/// A socket listening on a free loopback port: another process holding a port a test needs.
public final class ListeningSocket: @unchecked Sendable {
    // @unchecked: only the owning test touches it.
    public let port: Int
    private var fd: Int32

    public init() throws {
        port = try freeLoopbackPort()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, withLoopbackAddress(port: port, { bind(fd, $0, $1) }) == 0, listen(fd, 1) == 0 else {
            throw POSIXError(.EADDRINUSE)
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    deinit { close() }
}
