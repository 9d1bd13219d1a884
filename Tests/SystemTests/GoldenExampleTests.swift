import Foundation
import HeliosTestSupport
import Testing

/// The examples' outputs, produced by the real binary, compared byte for byte with the golden
/// files beside them. `UPDATE_GOLDEN=1` rewrites the golden files instead.
struct GoldenExampleTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    func helios(_ arguments: [String]) throws -> CommandResult {
        try execute([heliosExecutable.path] + arguments, in: Self.examples.path, environment: ["NO_COLOR": "1"])
    }

    func compare(_ actual: String, golden name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = Self.examples.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(actual.utf8).write(to: file)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(actual == expected, "\(name) differs; run UPDATE_GOLDEN=1 swift test --filter GoldenExampleTests and review the diff",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: ["basic", "rolling-update"])
    func planOutputsMatchTheGoldenFiles(example: String) throws {
        for (format, suffix) in [("text", "txt"), ("json", "json"), ("markdown", "md")] {
            let result = try helios(["plan", "\(example)/manifests", "--state", "\(example)/state.json",
                                     "--format", format, "--detailed-exitcode"])
            #expect(result.status == 2, "a plan with changes exits 2 with --detailed-exitcode: \(result.errors)")
            try compare(result.output, golden: "\(example)/plan.\(suffix)")
        }
    }

    @Test func theInvalidExampleReportsEveryMistakeAtOnce() throws {
        let validate = try helios(["validate", "invalid/manifests"])
        #expect(validate.status == 1)
        #expect(validate.output.isEmpty)
        try compare(validate.errors, golden: "invalid/diagnostics.txt")

        // A plan of invalid manifests prints the same diagnostics and applies nothing.
        let plan = try helios(["plan", "invalid/manifests", "--state", "basic/state.json"])
        #expect(plan.status == 1)
        #expect(plan.errors == validate.errors)
    }

    @Test func aValidExampleValidates() throws {
        let result = try helios(["validate", "basic/manifests"])
        #expect(result.status == 0)
        #expect(result.output == "3 files valid: 1 job, 1 deployment\n")
    }
}
