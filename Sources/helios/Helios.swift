import ArgumentParser

@main
struct Helios: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helios",
        abstract: "A declarative GitOps container deployer: git → ZooKeeper → Docker.",
        subcommands: [Validate.self, PlanCommand.self, ApplyCommand.self, StateCommand.self, StatusCommand.self,
                      HostsCommand.self, JobsCommand.self, DeploymentsCommand.self, HistoryCommand.self, RolloutCommand.self,
                      MasterCommand.self, AgentCommand.self])

    static func main() async {
        await CommandRunner.main(self)
    }
}
