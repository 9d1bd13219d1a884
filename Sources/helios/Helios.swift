import ArgumentParser
import HeliosAgent

@main
struct Helios: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helios",
        abstract: "A declarative GitOps container deployer: git → ZooKeeper → Docker.",
        discussion: "The manifest format: docs/manifests.md. Exit codes: 0 success (or no changes), 1 error, 2 changes present (plan --detailed-exitcode).",
        version: VersionCommand.text,
        subcommands: [Validate.self, PlanCommand.self, ApplyCommand.self, StateCommand.self, StatusCommand.self,
                      HostsCommand.self, JobsCommand.self, DeploymentsCommand.self, HistoryCommand.self, RolloutCommand.self, AuditCommand.self,
                      MasterCommand.self, AgentCommand.self, SchemaCommand.self, TokenCommand.self, ZooKeeperCommand.self, VersionCommand.self, CompletionCommand.self])

    static func main() async {
        await CommandRunner.main(self)
    }
}
