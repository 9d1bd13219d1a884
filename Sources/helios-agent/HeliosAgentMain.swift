import ArgumentParser
import Foundation
import HeliosAgentCommand

/// `helios-agent`: the agent alone, the binary to run on every host. It is `helios agent`
/// without the CLI, the master, libgit2 and libcurl, so each host keeps less of it in memory
/// (bench/README.md, footprint).
@main
struct HeliosAgentMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helios-agent", abstract: AgentOptions.abstract, version: BuildVersion.text(of: "helios-agent"))

    @OptionGroup var agent: AgentOptions

    func run() async throws {
        try await agent.run()
    }

    /// Flag errors as ArgumentParser prints them (with the usage); a failure to start as one
    /// line and its hint, as `helios` prints it; exit 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data(("error: \(error.message)\n" + (error.hint.map { "hint: \($0)\n" } ?? "")).utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
