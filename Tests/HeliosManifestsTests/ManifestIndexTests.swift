import Foundation
import HeliosManifests
import HeliosModel
import HeliosTestSupport
import Testing

/// The index, changed one commit at a time, must agree with a full load of the same files:
/// the same desired state, the same diagnostics, and a change that names exactly what differs.
struct ManifestIndexTests {
    func job(_ random: inout SeededGenerator) -> (path: String, text: String) {
        let name = ["web", "api", "db"].randomElement(using: &random)!
        let version = Int.random(in: 1...3, using: &random)
        var text = "kind: Job\nname: \(name)\nversion: \"\(version)\"\nimage: busybox\n"
        text += "env: { MODE: \(["a", "b"].randomElement(using: &random)!) }\n"
        switch Int.random(in: 0..<20, using: &random) {
        case 0: text += "ports: { http: { internal: 80, external: 8080 } }\n"
        case 1: text += "expires: 2001-01-01T00:00:00Z\n"
        default: break
        }
        // Sometimes two versions share a file, or a job moves between files.
        let file = Int.random(in: 0..<4, using: &random) == 0 ? "jobs/\(name).yaml" : "jobs/\(name)-\(version).yaml"
        return (file, text)
    }

    func deployment(_ random: inout SeededGenerator) -> (path: String, text: String) {
        let name = "d\(Int.random(in: 0..<6, using: &random))"
        var reference = ["web", "api", "db"].randomElement(using: &random)!
        switch Int.random(in: 0..<10, using: &random) {
        case 0: reference = "cache"
        case 1...3: reference += ":\(Int.random(in: 1...3, using: &random))"
        default: break
        }
        let hosts = ["a", "b", "c"].filter { _ in Bool.random(using: &random) }
        let placement = hosts.isEmpty ? "hostSelector: [role=web]" : "hosts: [\(hosts.joined(separator: ", "))]"
        let folder = Int.random(in: 0..<12, using: &random) == 0 ? "extra" : "deploy"
        return ("\(folder)/\(name).yaml", "kind: Deployment\nname: \(name)\njob: \(reference)\n\(placement)\n")
    }

    /// One commit's worth of changes to `files`.
    func edit(_ files: [String: String], _ random: inout SeededGenerator) -> ManifestChanges {
        var changes = ManifestChanges()
        for _ in 0..<Int.random(in: 1...2, using: &random) {
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<6:
                let (path, text) = job(&random)
                changes.changed.append(ManifestFile(path: path, content: Data(text.utf8)))
            case 6..<12:
                let (path, text) = deployment(&random)
                changes.changed.append(ManifestFile(path: path, content: Data(text.utf8)))
            case 12..<17:
                if let path = files.keys.sorted().randomElement(using: &random) { changes.removed.append(path) }
            case 17:
                changes.changed.append(ManifestFile(path: "deploy/broken.yaml", content: Data("kind: Job\nname: [\n".utf8)))
            case 18:
                let settings = ["maxPrune: 2\n", "prune: false\n", "paths: [jobs, deploy]\n"].randomElement(using: &random)!
                changes.changed.append(ManifestFile(path: "helios.yaml", content: Data(settings.utf8)))
            default:
                let (path, text) = job(&random)
                changes.changed.append(ManifestFile(path: path, content: Data((text + "bogus: 1\n").utf8)))
            }
        }
        // One change per path, as a tree diff gives it.
        var seen = Set<String>()
        changes.changed = changes.changed.reversed().filter { seen.insert($0.path).inserted }
        changes.removed = changes.removed.filter { seen.insert($0).inserted }
        return changes
    }

    func load(_ files: [String: String]) -> Result<DesiredState, ManifestError> {
        ManifestLoader.load(files.sorted { $0.key < $1.key }.map { ManifestFile(path: $0.key, content: Data($0.value.utf8)) })
    }

    @Test func everyChangeAgreesWithAFullLoad() throws {
        var applied = 0, refused = 0
        for seed in UInt64(1)...40 {
            var random = SeededGenerator(state: seed)
            var files: [String: String] = [:]
            var index = ManifestIndex()
            _ = try index.load([]).get()
            for step in 0..<60 {
                let changes = edit(files, &random)
                var next = files
                for path in changes.removed { next[path] = nil }
                for file in changes.changed { next[file.path] = String(decoding: file.content, as: UTF8.self) }
                let before = index.desired
                switch (load(next), index.apply(changes)) {
                case (.success(let full), .success(let change)):
                    #expect(index.desired == full, "seed \(seed) step \(step)")
                    #expect(change == DesiredChange(from: before, to: full), "seed \(seed) step \(step)")
                    files = next
                    applied += 1
                case (.failure(let full), .failure(let error)):
                    #expect(error.diagnostics == full.diagnostics, "seed \(seed) step \(step)")
                    // A refused commit changes nothing: the next one is applied to the last good state.
                    #expect(index.desired == before, "seed \(seed) step \(step)")
                    refused += 1
                case (let full, let incremental):
                    Issue.record("seed \(seed) step \(step): a full load gives \(full), the index \(incremental)")
                }
            }
        }
        // Both paths must be exercised often, or the agreement above proves little.
        #expect(applied > 600 && refused > 300, "\(applied) applied, \(refused) refused")
    }

    @Test func aOneFileChangeNamesTheDeploymentsThatUseTheJob() throws {
        var index = ManifestIndex()
        let files = [
            ManifestFile(path: "jobs/web.yaml", content: Data("kind: Job\nname: web\nversion: '1'\nimage: busybox\n".utf8)),
            ManifestFile(path: "deploy/one.yaml", content: Data("kind: Deployment\nname: one\njob: web\nhosts: [a]\n".utf8)),
            ManifestFile(path: "deploy/two.yaml", content: Data("kind: Deployment\nname: two\njob: web\nhosts: [b]\n".utf8)),
            ManifestFile(path: "deploy/other.yaml", content: Data("kind: Deployment\nname: other\njob: web:1\nhosts: [c]\n".utf8)),
        ]
        let first = try index.load(files).get()
        #expect(first.deployments == ["one", "two", "other"])
        let old = try #require(index.desired.jobs.keys.first)

        let bump = ManifestFile(path: "jobs/web.yaml", content: Data("kind: Job\nname: web\nversion: '2'\nimage: busybox\n".utf8))
        // `other` names version 1, which is gone: refused, and the index keeps version 1.
        let refused = index.apply(ManifestChanges(changed: [bump]))
        guard case .failure(let error) = refused else { Issue.record("expected a dangling reference"); return }
        #expect(error.description == "deploy/other.yaml:3:6: error: job 'web' has no version '1' (declared versions: 2)")
        #expect(index.desired.jobs.keys.map(\.self) == [old])

        let fixed = ManifestFile(path: "deploy/other.yaml", content: Data("kind: Deployment\nname: other\njob: web\nhosts: [c]\n".utf8))
        let change = try index.apply(ManifestChanges(changed: [bump, fixed])).get()
        #expect(change.deployments == ["one", "two", "other"])
        #expect(change.jobs.map(\.nameAndVersion).sorted() == ["web:1", "web:2"])
        #expect(!change.settings)
    }
}
