import Foundation
import HeliosManifests
import HeliosModel
import Testing

struct ManifestLoaderTests {
    func files(_ files: [String: String]) -> [ManifestFile] {
        files.sorted { $0.key < $1.key }.map { ManifestFile(path: $0.key, content: Data($0.value.utf8)) }
    }

    func diagnostics(_ input: [String: String]) -> [String] {
        switch ManifestLoader.load(files(input)) {
        case .success: []
        case .failure(let error): error.diagnostics.map(\.description)
        }
    }

    static let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
    static let validImages = ["busybox", "busybox:1.36", "library/busybox", "registry.example.com/web:1.4.3",
                              "localhost:5000/app", "localhost/app:v1", "a/b/c", "my_app__x.y-z", "web@\(digest)",
                              "registry.local:5000/team/web:1_A.b-c@\(digest)", "web:" + String(repeating: "t", count: 128)]
    static let invalidImages = ["Example/Web:latest", "web:", "web:.x", "web:-x", "web@sha256:abc", "web@:\(digest.dropFirst(7))",
                                "a..b", "a___b", "-web", "web-", "/web", "web/", "reg istry.com/web", "wéb", "web:t@g",
                                "web:" + String(repeating: "t", count: 129), String(repeating: "a", count: 513), "web@sha256:" + String(repeating: "g", count: 64)]

    @Test(arguments: validImages.map { ($0, true) } + invalidImages.map { ($0, false) })
    func imageReferencesFollowDockersRules(_ image: String, _ valid: Bool) {
        let result = ManifestLoader.load(files(["web.yaml": "kind: Job\nname: web\nversion: '1'\nimage: '\(image)'\n"]))
        switch result {
        case .success: #expect(valid, "\(image) was taken")
        case .failure(let error):
            #expect(!valid, "\(error.diagnostics)")
            #expect(error.diagnostics.map(\.message) == ["invalid image reference '\(Printable.escape(image))'"])
        }
    }

    static let web = """
        kind: Job
        name: web
        version: "1"
        image: busybox
        command: [httpd, -f]
        ---
        kind: Deployment
        name: web-prod
        job: web
        hosts: [b, a]
        """

    @Test func aJobAndADeploymentInOneFile() throws {
        let desired = try ManifestLoader.load(files(["web.yaml": Self.web])).get()
        let job = Job(name: "web", version: "1", image: "busybox", command: ["httpd", "-f"])
        #expect(desired.jobs == [job.id: job])
        #expect(desired.deployments == ["web-prod": Deployment(name: "web-prod", jobID: job.id, hosts: ["a", "b"],
                                                               source: Source(file: "web.yaml", revision: nil))])
    }

    @Test func envValuesBySecretReferenceAreNamesOnly() throws {
        let job = """
            kind: Job
            name: api
            version: "1"
            image: busybox
            env:
              LOG_LEVEL: info
              DB_PASS: {secret: db-password}
            """
        let desired = try ManifestLoader.load(files(["api.yaml": job])).get()
        let loaded = try #require(desired.jobs.values.first)
        #expect(loaded.env == ["LOG_LEVEL": "info"])
        #expect(loaded.secrets == ["DB_PASS": "db-password"])
        // Another secret is another job: the agents must read the other file.
        let other = try ManifestLoader.load(files(["api.yaml": job.replacingOccurrences(of: "db-password", with: "db-password-2")])).get()
        #expect(other.jobs.keys.first != loaded.id)

        let wrong = """
            kind: Job
            name: api
            version: "1"
            image: busybox
            env:
              DB_PASS: {secret: ../etc/shadow}
              API_KEY: {secrte: api-key}
              TOKEN: [a, b]
            """
        let errors = diagnostics(["api.yaml": wrong])
        #expect(errors.contains { $0.hasPrefix("api.yaml:6:21:") && $0.contains("invalid secret name '../etc/shadow'") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("api.yaml:7:") && $0.contains("secrte") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("api.yaml:8:") }, "\(errors)")
    }

    @Test func reformattingAndReorderingKeepTheJobID() throws {
        let reordered = """
            command:
              - httpd
              - "-f"
            image: 'busybox'
            version: 1
            name: web
            kind: Job
            """
        let original = try ManifestLoader.load(files(["a.yaml": Self.web])).get()
        let reformatted = try ManifestLoader.load(files(["b.yml": reordered])).get()
        #expect(Set(original.jobs.keys) == Set(reformatted.jobs.keys))
    }

    @Test func everyErrorIsReportedAtOnceWithItsPosition() {
        let found = diagnostics([
            "jobs/web.yaml": """
                kind: Job
                name: web
                version: "1"
                imgae: busybox
                """,
            "jobs/bad-name.yaml": """
                kind: Job
                name: ../etc
                version: "1"
                image: busybox
                """,
            "deployments/web.yaml": """
                kind: Deployment
                name: web-prod
                job: webb
                hosts: [a]
                """,
        ])
        #expect(found == [
            "deployments/web.yaml:3:6: error: job 'webb' is not declared (declared jobs: none)",
            "jobs/bad-name.yaml:2:7: error: invalid name '../etc' (allowed: letters, digits, '_', '.', '-')",
            "jobs/web.yaml:1:1: error: missing required field 'image' in Job 'web'",
            "jobs/web.yaml:4:1: error: unknown field 'imgae' in Job 'web' (did you mean 'image'?)",
        ])
    }

    @Test func syntaxErrorsAndDuplicateKeysNameTheirPlace() {
        #expect(diagnostics(["a.yaml": "kind: Job\nname: [web\n"]).first?.hasPrefix("a.yaml:3:1: error: invalid YAML") == true)
        let duplicate = diagnostics(["b.yaml": "kind: Job\nname: web\nname: web2\nversion: '1'\nimage: x\n"])
        #expect(duplicate.count == 1)
        #expect(duplicate.first?.hasPrefix("b.yaml:") == true)
        #expect(duplicate.first == "b.yaml:3:1: error: duplicate key 'name' (first on line 2)")
    }

    @Test func wrongTypesAndUnknownKindsAreErrors() {
        #expect(diagnostics(["a.yaml": "kind: Job\nname: web\nversion: '1'\nimage: [x]\n"])
            == ["a.yaml:4:8: error: field 'image' in Job 'web' must be a string"])
        #expect(diagnostics(["a.yaml": "kind: Service\nname: web\n"])
            == ["a.yaml:1:7: error: unknown kind 'Service' (expected Job or Deployment)"])
        #expect(diagnostics(["a.yaml": "- just\n- a list\n"])
            == ["a.yaml:1:1: error: a manifest document must be a mapping"])
        #expect(diagnostics(["a.yaml": "kind: Deployment\nname: d\njob: web\nhosts: a\n"]) == [
            "a.yaml:3:6: error: job 'web' is not declared (declared jobs: none)",
            "a.yaml:4:8: error: field 'hosts' in Deployment 'd' must be a list of strings",
        ])
    }

    @Test func deploymentReferencesMustBeUnambiguous() {
        let twoVersions = """
            kind: Job
            name: web
            version: "1"
            image: busybox
            ---
            kind: Job
            name: web
            version: "2"
            image: busybox
            """
        let deployment = { (job: String) in "kind: Deployment\nname: d\njob: \(job)\nhosts: [a]\n" }
        #expect(diagnostics(["jobs.yaml": twoVersions, "d.yaml": deployment("web")])
            == ["d.yaml:3:6: error: job 'web' is ambiguous: name one version (web:1, web:2)"])
        #expect(diagnostics(["jobs.yaml": twoVersions, "d.yaml": deployment("web:2")]) == [])
        #expect(diagnostics(["jobs.yaml": twoVersions, "d.yaml": deployment("web:3")])
            == ["d.yaml:3:6: error: job 'web' has no version '3' (declared versions: 1, 2)"])
    }

    @Test func duplicatesAreErrorsNamingTheFirstDeclaration() {
        let job = "kind: Job\nname: web\nversion: '1'\nimage: busybox\n"
        let deployment = "kind: Deployment\nname: d\njob: web\nhosts: [a]\n"
        #expect(diagnostics(["a.yaml": job + "---\n" + deployment, "b.yaml": job + "---\n" + deployment]) == [
            "b.yaml:1:1: error: job 'web:1' is declared twice (first at a.yaml:1:1)",
            "b.yaml:6:1: error: deployment 'd' is declared twice (first at a.yaml:6:1)",
        ])
    }

    @Test func anEmptyDocumentIsSkippedAndGoDurationsRead() throws {
        let job = "kind: Job\nname: web\nversion: '1'\nimage: busybox\ngracePeriod: 1m30s\nstopTimeout: 1.5m\n"
        let desired = try ManifestLoader.load([ManifestFile(path: "a.yaml", content: Data(("---\n" + job + "---\n---\n").utf8))]).get()
        let loaded = try #require(desired.jobs.values.first)
        #expect(loaded.gracePeriod == 90_000)
        #expect(loaded.stopTimeout == 90_000)
        #expect(Durations.parse("2h45m30s") == 9_930_000)
        #expect(Durations.parse("500ms") == 500)
        for wrong in ["", "5", "1.5", ".5s", "5s1", "1.0005s", "m", "5 s", "-1s"] { #expect(Durations.parse(wrong) == nil, "\(wrong)") }
    }
}
