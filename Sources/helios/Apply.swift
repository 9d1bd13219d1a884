import HeliosAgentCommand
import ArgumentParser
import Foundation
import HeliosMaster
import HeliosModel
import HeliosPlanner
import HeliosStore

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a manifest directory through a master; --dry-run prints every step offline.")

    @OptionGroup var options: PlanOptions

    @Flag(help: "Print the plan and every ZooKeeper write it would make; write nothing.")
    var dryRun = false

    @Option(help: "A plan saved with `helios plan --master URL --format json --out FILE`: applied only if the cluster has not moved since.")
    var plan: String?

    @Flag(help: "Apply to a cluster that follows git (the change is then drift from git).")
    var force = false

    @Flag(help: "Return once applied, without following the rollouts it started.")
    var detach = false

    func run() async throws {
        if dryRun { return try await dryRunSteps() }
        guard let master = options.master ?? MasterOptions.environmentMaster else {
            throw CLIError("applying goes through a master", hint: "give --master HOST:PORT (or HELIOS_MASTER), or preview with --dry-run")
        }
        var request = ApplyRequest(
            files: try ManifestInput(options.directory, includeUntracked: options.untracked).files.map(ApplyRequest.File.init),
            force: force)
        if let plan {
            do {
                request.savedPlan = try CanonicalJSON.decode(PlanDocument.self, from: Data(contentsOf: URL(fileURLWithPath: plan)))
            } catch {
                throw CLIError("\(plan) is not a saved plan: \(CLIError.explaining(error).message)",
                               hint: "save one with `helios plan --master HOST:PORT --format json --out FILE`")
            }
        }
        let client = try options.client(master)
        do {
            let reply = try client.decode(ApplyReply.self, try await client.post("/v1/apply", request))
            print(reply.text, terminator: "")
            if reply.applied { Self.printSteps(reply.writes, "written") }
            print(reply.applied ? "Applied at check index \(reply.checkIndex)." : "Nothing to apply.")
            if !detach { try await follow(reply.rollouts, client: client) }
        } catch let failure as MasterClient.Failure {
            Output.error(failure.description)
            throw ExitCode.failure
        }
    }

    /// Waits for the rollouts the apply started, printing each as it ends; exit 1 if one failed.
    private func follow(_ deployments: [String], client: MasterClient) async throws {
        var failed = false
        for name in deployments {
            while true {
                let reply = try client.decode(DeploymentReply.self, try await client.get("/v1/deployments/\(name)"))
                guard let rollout = reply.rollout, rollout.state == .rollingOut else {
                    print(RolloutCommand.Status.render(reply), terminator: "")
                    failed = failed || reply.rollout?.hasFailed == true
                    break
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// Prints the plan and the ZooKeeper writes that apply it — the master's own, with --master.
    private func dryRunSteps() async throws {
        let text: String, writes: [String], refused: Bool
        if let master = options.master ?? MasterOptions.environmentMaster {
            let request = ApplyRequest(
                files: try ManifestInput(options.directory, includeUntracked: options.untracked).files.map(ApplyRequest.File.init))
            let client = try options.client(master)
            let reply: ApplyReply
            do {
                reply = try client.decode(ApplyReply.self, try await client.post("/v1/plan", request))
            } catch let failure as MasterClient.Failure {
                Output.error(failure.description)
                throw ExitCode.failure
            }
            (text, writes, refused) = (reply.text, reply.writes, !reply.plan.errors.isEmpty)
        } else {
            let (plan, base, diagnostics) = try await options.makePlan()
            Output.report(diagnostics)
            let snapshot = ConfigSnapshot(state: base, hostDirectories: Set(base.config.tasks.keys))
            (text, refused) = (PlanRenderer.text(plan, color: options.color), !plan.errors.isEmpty)
            writes = plan.isEmpty ? [] : HeliosStore.operations(for: plan, to: snapshot).map(HeliosStore.describe)
        }
        print(text, terminator: "")
        guard !refused else { throw ExitCode.failure }
        Self.printSteps(writes, "nothing written, --dry-run")
    }

    /// The ZooKeeper operations of an apply, numbered: the same lines for a dry run and a real one.
    static func printSteps(_ writes: [String], _ note: String) {
        guard !writes.isEmpty else { return }
        print("\nSteps (one ZooKeeper transaction; \(note)):")
        let width = String(writes.count).count
        for (index, write) in writes.enumerated() {
            let number = String(index + 1).padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(number)  \(write)")
        }
    }
}
