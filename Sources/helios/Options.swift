import ArgumentParser
import Foundation
import Logging

/// Flags every daemon takes.
struct DaemonOptions: ParsableArguments {
    @Option(name: .customLong("zk"), help: "ZooKeeper servers, host:port[,host:port…] (default: $HELIOS_ZK).")
    var zooKeeper: String?

    @Option(help: "The ZooKeeper chroot Helios keeps its tree under.")
    var chroot = "/helios"

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func zooKeeperServers() throws -> String {
        guard let servers = zooKeeper ?? ProcessInfo.processInfo.environment["HELIOS_ZK"] else {
            throw CLIError("give ZooKeeper's address with --zk HOST:PORT or HELIOS_ZK")
        }
        return servers
    }

    func bootstrapLogging(label: String) -> Logger {
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

/// Parses `500ms`, `5s`, `2m`, `1h`.
struct DurationArgument: ExpressibleByArgument {
    let duration: Duration
    let text: String

    var defaultValueDescription: String { text }

    init?(argument: String) {
        text = argument
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600))]
        for (suffix, unit) in units where argument.hasSuffix(suffix) {
            guard let value = Int(argument.dropLast(suffix.count)), value > 0 else { return nil }
            duration = unit * value
            return
        }
        return nil
    }
}
