import ArgumentParser
import Foundation
import HeliosModel
import HeliosStore
import Logging

/// Flags every daemon takes.
public struct DaemonOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("zk"), help: "ZooKeeper servers, host:port[,host:port…] (default: $HELIOS_ZK).")
    public var zooKeeper: String?

    @Option(help: "The ZooKeeper chroot Helios keeps its tree under.")
    public var chroot = "/helios"

    @Option(help: "A file (mode 600) with this process' ZooKeeper digest identity, user:password: the master's, or an agent's two lines from `helios zk credentials HOST`. Secures the tree.")
    public var zkAuthFile: String?

    /// The ZooKeeper identity from `--zk-auth-file`; an agent's names its host.
    public func zooKeeperSecurity(host: String? = nil) throws -> StoreSecurity {
        guard let zkAuthFile else { return .open }
        do {
            return try StoreSecurity.load(zkAuthFile, host: host)
        } catch {
            throw CLIError("--zk-auth-file: \(error)")
        }
    }

    @Option(help: "Log level.")
    public var logLevel: Logger.Level = .info

    public func zooKeeperServers() throws -> String {
        guard let servers = zooKeeper ?? ProcessInfo.processInfo.environment["HELIOS_ZK"] else {
            throw CLIError("give ZooKeeper's address with --zk HOST:PORT or HELIOS_ZK")
        }
        return servers
    }

    public func bootstrapLogging(label: String) -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Parses durations as manifests write them: `500ms`, `5s`, `2m`, `1h30m`.
public struct DurationArgument: ExpressibleByArgument, Sendable {
    public let duration: Duration
    public let text: String

    public var defaultValueDescription: String { text }

    public init?(argument: String) {
        guard let milliseconds = Durations.parse(argument), milliseconds > 0 else { return nil }
        text = argument
        duration = .milliseconds(milliseconds)
    }
}
