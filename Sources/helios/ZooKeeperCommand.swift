import HeliosAgentCommand
import ArgumentParser
import Foundation
import HeliosStore

/// `helios zk`: ZooKeeper identities for a secured tree, and securing a tree that was open.
struct ZooKeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zk", abstract: "Secure the ZooKeeper tree: identities for masters and agents, ACLs.",
        subcommands: [Credentials.self, Secure.self])

    struct Credentials: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a credentials file: the master's (a new random identity), or with HOST that host's agent's (derived from the master's).")

        @Argument(help: "The agent's host name, as its --name says it. Without it: the master's identity.")
        var host: String?

        @Option(help: "The master's credentials file (for an agent's).")
        var master: String?

        @Option(help: "The file to write (mode 600; an existing one is not overwritten).")
        var file: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file) exists; not overwriting it") }
            let text: String
            if let host {
                guard let master else { throw CLIError("an agent's credentials derive from the master's: give --master FILE") }
                guard case .master(let identity) = try load(master) else { throw CLIError("\(master) is not a master's credentials file") }
                text = try StoreSecurity.agentFile(host: host, master: identity)
            } else {
                text = "# ZooKeeper credentials of the Helios masters. Keep it readable by the masters only.\n"
                    + (try ZooKeeperIdentity.generate(user: "helios-master").line) + "\n"
            }
            guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIError("cannot write \(file)")
            }
            Output.error(host.map { "credentials of the agent on \($0) written to \(file): give it to that agent's --zk-auth-file" }
                ?? "master credentials written to \(file): give it to every master's --zk-auth-file")
        }

        private func load(_ path: String) throws -> StoreSecurity {
            do { return try StoreSecurity.load(path) } catch { throw CLIError("--master: \(error)") }
        }
    }

    struct Secure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the secured ACLs on every node of an existing tree, as the master's identity (safe to run again).")

        @OptionGroup var options: DaemonOptions

        func run() async throws {
            guard case .master(let identity) = try options.zooKeeperSecurity() else {
                throw CLIError("give the master's credentials with --zk-auth-file FILE", hint: "helios zk credentials --file FILE makes them")
            }
            let count = try await HeliosStore.secure(servers: try options.zooKeeperServers(), chroot: options.chroot, master: identity)
            Output.error("secured \(count) nodes under \(options.chroot): start masters and agents with --zk-auth-file now")
        }
    }
}
