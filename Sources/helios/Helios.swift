import ArgumentParser

@main
struct Helios: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helios",
        abstract: "A declarative GitOps container deployer: git → ZooKeeper → Docker.",
        subcommands: [Validate.self, PlanCommand.self, ApplyCommand.self, MasterCommand.self, AgentCommand.self])
}
