import Foundation
@testable import HeliosManifests
import Testing
import Yams

/// The manifests' own composer gives what Yams composed before it (text, quoting, positions,
/// order) on every manifest in the repository, and reads the YAML forms manifests use.
struct YAMLComposerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A node as text: kind, position, quoting, and the children in order.
    static func outline(_ node: HeliosManifests.Node) -> String {
        switch node {
        case .scalar(let scalar):
            "\(scalar.mark.line):\(scalar.mark.column) \(scalar.style == .plain ? "plain" : "quoted") \(scalar.string.debugDescription)"
        case .mapping(let pairs, let mark):
            "\(mark.line):\(mark.column) {" + pairs.map { outline($0.key) + " = " + outline($0.value) }.joined(separator: ", ") + "}"
        case .sequence(let items, let mark):
            "\(mark.line):\(mark.column) [" + items.map(outline).joined(separator: ", ") + "]"
        }
    }

    static func outline(_ node: Yams.Node) -> String {
        let mark = node.mark.map { "\($0.line):\($0.column)" } ?? "?"
        switch node {
        case .scalar(let scalar):
            return "\(mark) \(scalar.style == .plain ? "plain" : "quoted") \(scalar.string.debugDescription)"
        case .mapping(let mapping):
            return "\(mark) {" + mapping.map { outline($0.key) + " = " + outline($0.value) }.joined(separator: ", ") + "}"
        case .sequence(let sequence):
            return "\(mark) [" + sequence.map(outline).joined(separator: ", ") + "]"
        case .alias:
            return "alias"
        }
    }

    @Test func everyManifestInTheRepositoryComposesAsYamsComposedIt() throws {
        var files: [URL] = []
        for folder in ["examples", "deployments"] {
            let found = FileManager.default.enumerator(at: Self.repository.appendingPathComponent(folder), includingPropertiesForKeys: nil)?
                .allObjects.compactMap { $0 as? URL } ?? []
            files += found.filter { ["yaml", "yml"].contains($0.pathExtension) }
        }
        #expect(files.count >= 5, "found \(files.count) manifests")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            guard case .success(let ours) = YAMLComposer.compose(text, file: file.lastPathComponent) else { continue }
            let parser = try Parser(yaml: text)
            var theirs: [Yams.Node] = []
            while let node = try parser.nextRoot() { theirs.append(node) }
            #expect(ours.map(Self.outline) == theirs.map(Self.outline), "\(file.path)")
        }
    }

    @Test func blockFlowQuotedAndFoldedFormsComposeWithTheirPositions() throws {
        let text = """
            kind: Job
            name: 'web'
            env: { A: "1", B: plain }
            command:
              - sh
              - >
                folded
            ---
            ---
            kind: Deployment

            """
        guard case .success(let documents) = YAMLComposer.compose(text, file: "t.yaml") else {
            Issue.record("refused")
            return
        }
        #expect(documents.count == 3, "the empty document is kept here: the loader skips it")
        #expect(documents[1].isNull)
        let job = try #require(documents[0].mapping)
        #expect(job.map { $0.key.string } == ["kind", "name", "env", "command"])
        guard case .scalar(let name) = job[1].value else {
            Issue.record("name is not a scalar")
            return
        }
        #expect(name.style == .singleQuoted && name.string == "web" && name.mark == Mark(line: 2, column: 7))
        #expect(job[2].value.mapping?.map { $0.value.string } == ["1", "plain"])
        #expect(job[3].value.sequence?.map(\.string) == ["sh", "folded\n"])
        #expect(job[3].value.mark == Mark(line: 5, column: 3))
        #expect(documents[2].mapping?.first?.value.string == "Deployment")
    }
}
