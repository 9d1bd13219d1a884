import ArgumentParser
import Foundation
import HeliosMaster
import HeliosPlanner
import HeliosStore
import ZooKeeper

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
        guard let master = options.master ?? ProcessInfo.processInfo.environment["HELIOS_MASTER"] else {
            throw ValidationError("applying goes through a master: give --master URL (or HELIOS_MASTER), or use --dry-run")
        }
        var request = ApplyRequest(
            files: try options.files().map { .init(path: $0.path, content: String(decoding: $0.content, as: UTF8.self)) },
            force: force)
        if let plan {
            let saved = try String(contentsOfFile: plan, encoding: .utf8)
            let base = (try JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: Any])?["base"] as? [String: Any]
            guard let checkIndex = base?["checkIndex"] as? Int else {
                throw ValidationError("\(plan) was not planned against a cluster: save one with `helios plan --master URL --format json --out FILE`")
            }
            request.checkIndex = Int32(checkIndex)
            request.expectedPlan = saved
        }
        let client = MasterClient(base: master)
        do {
            let reply = try client.decode(ApplyReply.self, try await client.post("/v1/apply", request))
            print(reply.text, terminator: "")
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
                    failed = failed || reply.rollout?.state == .failed || reply.rollout?.state == .rolledBack
                    break
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        if failed { throw ExitCode.failure }
    }

    private func dryRunSteps() async throws {
        let (plan, base) = try await options.makePlan()
        print(PlanRenderer.text(plan, color: Output.colorAllowed), terminator: "")
        guard plan.errors.isEmpty else { throw ExitCode.failure }
        guard !plan.isEmpty else { return }
        let operations = HeliosStore.operations(for: plan, checkIndex: base.checkIndex ?? 0,
                                                hostDirectories: Set(base.config.tasks.keys))
        print("\nSteps (one ZooKeeper transaction; nothing written, --dry-run):")
        let width = String(operations.count).count
        for (index, operation) in operations.enumerated() {
            let number = String(index + 1).padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(number)  \(Self.describe(operation))")
        }
    }

    static func describe(_ operation: TransactionOperation) -> String {
        switch operation {
        case .check(let path, let version): "check   \(path) is at version \(version)"
        case .create(let path, let data, _): "create  \(path)" + (data.isEmpty ? "" : "  (\(data.count) bytes)")
        case .set(let path, let data, let version):
            "set     \(path)  (\(data.count) bytes\(version.map { ", if at version \($0)" } ?? ""))"
        case .delete(let path, _): "delete  \(path)"
        }
    }
}
