import ArgumentParser
import Foundation
import HeliosPlanner

extension PlanRenderer.Format: ExpressibleByArgument {}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what applying a manifest directory would change. Offline: needs no cluster.",
        discussion: """
            Exit codes: 0 no changes (or changes without --detailed-exitcode), 1 error, \
            2 changes present (with --detailed-exitcode).
            """)

    @OptionGroup var options: PlanOptions

    @Option(help: "text, json or markdown.")
    var format: PlanRenderer.Format = .text

    @Option(help: "Write the plan to this file instead of standard output.")
    var out: String?

    @Flag(help: "Exit 2 when the plan has changes.")
    var detailedExitcode = false

    func run() async throws {
        let (plan, _) = try await options.makePlan()
        let rendered = PlanRenderer.render(plan, as: format, color: format == .text && out == nil && Output.colorAllowed)
        if let out {
            try Data(rendered.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            print(rendered, terminator: "")
        }
        if !plan.errors.isEmpty { throw ExitCode.failure }
        if detailedExitcode && !plan.isEmpty { throw ExitCode(2) }
    }
}
