import ArgumentParser
import Foundation
import HeliosPlanner
import HeliosStore
import ZooKeeper

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a manifest directory through a master; --dry-run prints every step offline.")

    @OptionGroup var options: PlanOptions

    @Flag(help: "Print the plan and every ZooKeeper write it would make; write nothing.")
    var dryRun = false

    func run() throws {
        guard dryRun else {
            throw ValidationError("applying goes through a master, which this build cannot reach yet; "
                + "use --dry-run to see every step offline")
        }
        let (plan, base) = try options.makePlan()
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
