import HeliosAgentCommand
import ArgumentParser
import Foundation
import HeliosModel
import HeliosPlanner

extension PlanRenderer.Format: ExpressibleByArgument {}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what applying a manifest directory would change. Offline: needs no cluster.",
        discussion: """
            Exit codes: 0 no changes (or changes without --detailed-exitcode), 1 error (invalid \
            manifests, a refused plan), 2 changes present (with --detailed-exitcode). Every error \
            and warning also goes to standard error, whatever the format.
            """)

    @OptionGroup var options: PlanOptions

    @Option(help: "text, json or markdown.")
    var format: PlanRenderer.Format = .text

    @Option(help: "Write the plan to this file; the summary and any errors still go to the terminal.")
    var out: String?

    @Flag(help: "Exit 2 when the plan has changes.")
    var detailedExitcode = false

    func run() async throws {
        let (plan, _, diagnostics) = try await options.makePlan()
        // Diagnostics and refusals on standard error: a CI log shows why, whatever went to stdout.
        Output.report(diagnostics)
        for warning in plan.warnings where !diagnostics.map(\.description).contains(warning) {
            Output.error(Printable.lines("warning: " + warning))
        }
        for error in plan.errors where !diagnostics.map(\.description).contains(error) {
            Output.error(Printable.lines("error: " + error))
        }
        let toTerminal = out == nil && format == .text
        // On standard output the text plan leaves out what standard error just said.
        let rendered = PlanRenderer.render(plan, as: format, color: toTerminal && options.color, notes: !toTerminal)
        if let out {
            do {
                try Data(rendered.utf8).write(to: URL(fileURLWithPath: out))
            } catch {
                throw CLIError("cannot write the plan to \(out): \(CLIError.explaining(error).message)")
            }
            Output.error("Plan written to \(out): \(PlanRenderer.summaryLine(plan))")
        } else {
            print(rendered, terminator: "")
        }
        if !plan.errors.isEmpty { throw ExitCode.failure }
        if detailedExitcode && !plan.isEmpty { throw ExitCode(2) }
    }
}
