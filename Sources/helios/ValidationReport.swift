import Foundation
import HeliosManifests
import HeliosModel

/// `helios validate --format json|sarif`: the diagnostics for machines.
struct ValidationReport {
    let input: ManifestInput
    let desired: DesiredState?
    let diagnostics: [Diagnostic]

    var files: Int { input.files.count }

    struct Entry: Encodable {
        let file: String
        let line: Int
        let column: Int
        /// Where the token it points at ends (exclusive), when known.
        let endColumn: Int?
        let severity: String
        let message: String
    }

    private var entries: [Entry] {
        diagnostics.map { Entry(file: $0.file, line: $0.line, column: $0.column, endColumn: input.endColumn(of: $0),
                                severity: $0.severity.rawValue, message: $0.message) }
    }

    func json() throws -> String {
        struct Document: Encodable {
            let valid: Bool
            let files: Int
            let jobs: Int?
            let deployments: Int?
            let errors: Int
            let warnings: Int
            let diagnostics: [Entry]
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        return try encode(Document(valid: desired != nil, files: files, jobs: desired?.jobs.count,
                                   deployments: desired?.deployments.count, errors: errors,
                                   warnings: diagnostics.count - errors, diagnostics: entries))
    }

    /// SARIF 2.1.0, as GitHub code scanning and other CI annotators read it.
    func sarif() throws -> String {
        struct Log: Encodable {
            enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
            let schema = "https://json.schemastore.org/sarif-2.1.0.json"
            let version = "2.1.0"
            let runs: [Run]
        }
        struct Run: Encodable { let tool: Tool; let results: [Result] }
        struct Tool: Encodable { let driver: Driver }
        struct Driver: Encodable {
            let name = "helios"
            let rules = [Rule()]
        }
        struct Rule: Encodable {
            let id = "manifest"
            let shortDescription = Message(text: "A Helios manifest problem")
        }
        struct Message: Encodable { let text: String }
        struct Result: Encodable {
            let ruleId = "manifest"
            let level: String
            let message: Message
            let locations: [Location]
        }
        struct Location: Encodable { let physicalLocation: PhysicalLocation }
        struct PhysicalLocation: Encodable { let artifactLocation: Artifact; let region: Region }
        struct Artifact: Encodable { let uri: String }
        struct Region: Encodable { let startLine: Int; let startColumn: Int; let endColumn: Int? }
        let results = diagnostics.map { diagnostic in
            Result(level: diagnostic.severity == .error ? "error" : "warning", message: Message(text: diagnostic.message),
                   locations: [Location(physicalLocation: PhysicalLocation(
                       artifactLocation: Artifact(uri: diagnostic.file),
                       region: Region(startLine: diagnostic.line, startColumn: diagnostic.column,
                                      endColumn: input.endColumn(of: diagnostic))))])
        }
        return try encode(Log(runs: [Run(tool: Tool(driver: Driver()), results: results)]))
    }

    private func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
