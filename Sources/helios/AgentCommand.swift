import ArgumentParser
import HeliosAgentCommand

/// `helios agent`; `helios-agent` is the same command in a binary of its own.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: AgentOptions.abstract)

    @OptionGroup var agent: AgentOptions

    func run() async throws {
        try await agent.run()
    }
}
