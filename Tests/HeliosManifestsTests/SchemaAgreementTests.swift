import Foundation
import HeliosManifests
import HeliosTestSupport
import Testing

/// The JSON Schema an editor uses and the loader the master uses agree: on every example
/// (valid), and on each mistake of the hostile corpus one document can show (refused by both).
/// The schema is checked by a real validator, Python's `jsonschema` (Debian's python3-jsonschema).
struct SchemaAgreementTests {
    /// Hostile cases whose mistake is inside one document (the schema cannot see across files),
    /// valid YAML that PyYAML reads safely (no alias bombs). Duplicate keys are a YAML matter
    /// no schema sees (PyYAML keeps the last).
    static let documentMistakes = [
        "wrong types", "names with / and ..", "invalid selector", "no hosts at all", "bad image and port protocol",
        "unknown kind", "bad helios.yaml", "a Kubernetes manifest", "unknown capability and security option",
        "== in a selector", "no host at all", "syntax error", "a tab in the indentation",
    ]

    /// `file → schema errors` for `files` written to a temporary directory.
    static func schemaErrors(_ files: [String: Data]) throws -> [String: [String]] {
        let directory = try TemporaryDirectory("schema")
        defer { directory.remove() }
        try Data(ManifestSchema.json.utf8).write(to: directory.url.appendingPathComponent("schema.json"))
        for (path, content) in files {
            let url = directory.url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url)
        }
        let python = FileManager.default.fileExists(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        let result = try execute([python, repositoryRoot.appendingPathComponent("scripts/schema-check.py").path, directory.path + "/schema.json"]
                                 + files.keys.sorted().map { directory.path + "/" + $0 })
        try #require(result.status == 0, "schema-check.py failed (python3-yaml and python3-jsonschema installed?): \(result.errors)")
        var errors: [String: [String]] = [:]
        for line in result.output.split(separator: "\n") {
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let file = String((entry?["file"] as? String ?? "").dropFirst(directory.path.count + 1))
            errors[file] = entry?["errors"] as? [String] ?? []
        }
        return errors
    }

    @Test func theSchemaRefusesEachMistakeTheLoaderRefuses() throws {
        for testCase in HostileInputTests.cases where Self.documentMistakes.contains(testCase.name) {
            #expect(!testCase.expected.isEmpty, "\(testCase.name): the loader accepts it")
            let errors = try Self.schemaErrors(testCase.files)
            #expect(errors.values.contains { !$0.isEmpty }, "\(testCase.name): the schema accepts what the loader refuses")
        }
        let valid = try Self.schemaErrors(["a.yaml": Data((HostileInputTests.job + "---\nkind: Deployment\nname: d\njob: web\nhostSelector: [\"zone in (a, b)\", \"role!=db\"]\nrollout: { timeout: 1h30m, minHealthy: 1.5m }\n").utf8)])
        #expect(valid["a.yaml"] == [], "\(valid)")
    }

    @Test func everyExampleValidatesAgainstTheSchemaAndTheCommittedCopyIsCurrent() throws {
        let root = repositoryRoot
        var files: [String: Data] = [:]
        for folder in ["examples/basic/manifests", "examples/rolling-update/manifests", "deployments"] {
            for file in try ManifestSource.directory(root.appendingPathComponent(folder).path) {
                files[folder + "/" + file.path] = file.content
            }
        }
        #expect(files.count >= 5)
        for (file, errors) in try Self.schemaErrors(files) { #expect(errors.isEmpty, "\(file): \(errors)") }
        let committed = try String(contentsOf: root.appendingPathComponent("docs/manifest.schema.json"), encoding: .utf8)
        #expect(committed == ManifestSchema.json + "\n", "docs/manifest.schema.json is stale: helios schema > docs/manifest.schema.json")
    }
}
