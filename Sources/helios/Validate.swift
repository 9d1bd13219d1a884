import ArgumentParser
import Foundation
import HeliosModel
import HeliosManifests

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a manifest directory and print every diagnostic (exit 0 valid, 1 invalid).",
        discussion: "Diagnostics go to standard error as file:line:column: error|warning: message, files named from the current directory.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif
    }

    @Argument(help: "The manifest directory.")
    var directory = "."

    @Option(help: "text, json, or sarif (SARIF 2.1.0, for code-scanning annotations) on standard output.")
    var format: Format = .text

    @Flag(help: "In a git work tree, also read untracked and ignored manifests (the master reads only committed ones).")
    var untracked = false

    func run() throws {
        let input = try ManifestInput(directory, includeUntracked: untracked)
        let (desired, diagnostics) = input.load()
        for note in input.notes { Output.error("warning: " + Printable.lines(note)) }
        Output.report(diagnostics)
        switch format {
        case .text:
            if let desired {
                print("\(Output.count(input.files.count, "file")) valid: \(Output.count(desired.jobs.count, "job")), "
                      + "\(Output.count(desired.deployments.count, "deployment"))")
            }
        case .json:
            print(try ValidationReport(input: input, desired: desired, diagnostics: diagnostics).json())
        case .sarif:
            print(try ValidationReport(input: input, desired: desired, diagnostics: diagnostics).sarif())
        }
        if desired == nil { throw ExitCode.failure }
    }
}
