import Foundation
import HeliosTestSupport
import Testing

/// The offline CLI as a pull-request gate: it must never go green on a mistake, nor fail with
/// an empty log. Each test is a case a new user hit on day one.
struct PullRequestGateTests {
    static let job = PlanInCITests.job
    static let deployment = PlanInCITests.deployment

    func helios(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> CommandResult {
        try execute([heliosExecutable.path] + arguments, in: directory,
                    environment: ["NO_COLOR": "1", "HELIOS_MASTER": ""].merging(environment) { $1 })
    }

    // MARK: Paths that select nothing

    @Test func pathsThatSelectNothingFailWithTheReason() throws {
        let directory = try TemporaryDirectory("gate-paths")
        defer { directory.remove() }
        try directory.write(Self.job, to: "repo/jobs/web.yaml")
        try FileManager.default.createDirectory(atPath: directory.path + "/empty", withIntermediateDirectories: true)

        let missing = try helios(["validate", "no/such/dir"], in: directory.path)
        #expect(missing.status == 1)
        #expect(missing.errors.contains("error: no/such/dir: no such directory"), "\(missing.errors)")

        let file = try helios(["validate", "repo/jobs/web.yaml"], in: directory.path)
        #expect(file.status == 1)
        #expect(file.errors.contains("is a file"), "\(file.errors)")
        #expect(file.errors.contains("hint: give its folder, e.g. repo/jobs"), "\(file.errors)")

        let empty = try helios(["validate", "empty"], in: directory.path)
        #expect(empty.status == 1)
        #expect(empty.errors.contains("holds no manifest files"), "\(empty.errors)")
        #expect(try helios(["plan", "empty", "--state", "x"], in: directory.path).status == 1)

        // A typo in helios.yaml's paths would make the master see no manifests there at all.
        try directory.write("paths: [job]\n", to: "repo/helios.yaml")
        let typo = try helios(["validate", "repo"], in: directory.path)
        #expect(typo.status == 1)
        #expect(typo.errors.contains("repo/helios.yaml:1:9: error: paths entry 'job' selects no manifest file (did you mean 'jobs'?)"),
                "\(typo.errors)")
        #expect(typo.errors.contains("1 error in 1 file"))
        for output in [missing, file, empty, typo] { #expect(output.output.isEmpty && !output.errors.contains("Usage")) }
    }

    // MARK: Errors reach the log

    @Test func aRefusedOrInvalidPlanSaysWhyOnStandardErrorInEveryFormat() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job + "\n---\n" + Self.deployment, "helios.yaml": "maxPrune: 0\n"])
        try git.git("push", "-q", "-u", "origin", "main")
        try git.directory.write("maxPrune: 0\n", to: "work/helios.yaml")
        try FileManager.default.removeItem(atPath: git.workTree + "/web.yaml")
        try git.directory.write(Self.job.replacingOccurrences(of: "web", with: "api"), to: "work/api.yaml")
        try git.git("add", "-A") // the pull request's files, as its commit has them

        for format in ["text", "json", "markdown"] {
            let refused = try helios(["plan", "--format", format, "--out", "plan.out", "--detailed-exitcode"], in: git.workTree)
            #expect(refused.status == 1, "\(format): \(refused.errors)")
            #expect(refused.errors.contains("error: this change would delete 1 of 1 deployments"), "\(format): \(refused.errors)")
            #expect(refused.errors.contains("maxPrune"), "\(format)")
            let saved = try String(contentsOfFile: git.workTree + "/plan.out", encoding: .utf8)
            #expect(saved.contains("maxPrune"), "the saved \(format) plan carries the refusal")
        }

        // Invalid manifests: the diagnostics on stderr and inside the JSON document.
        try git.directory.write("kind: Job\nname: api\n", to: "work/api.yaml")
        let invalid = try helios(["plan", "--format", "json"], in: git.workTree)
        #expect(invalid.status == 1)
        #expect(invalid.errors.contains("api.yaml:1:1: error: missing required field 'version' in Job 'api'"))
        let document = try JSONSerialization.jsonObject(with: Data(invalid.output.utf8)) as? [String: Any]
        let errors = document?["errors"] as? [String] ?? []
        #expect(errors.contains { $0.contains("api.yaml:1:1: error: missing required field 'version'") }, "\(invalid.output)")
        let markdown = try helios(["plan", "--format", "markdown"], in: git.workTree)
        #expect(markdown.output.contains("missing required field 'version'"))
        #expect(!markdown.output.contains("No changes"))
    }

    @Test func runtimeErrorsAreOneLineWithAHintNeverADump() throws {
        let directory = try TemporaryDirectory("gate-errors")
        defer { directory.remove() }
        try directory.write(Self.job, to: "web.yaml")
        let state = try helios(["plan", "--state", "missing.json"], in: directory.path)
        #expect(state.status == 1)
        #expect(state.errors.contains("error: cannot read the state snapshot missing.json: no such file or directory"),
                "\(state.errors)")
        try directory.write("{\"config\": {}}", to: "bad.json")
        let bad = try helios(["plan", "--state", "bad.json"], in: directory.path)
        #expect(bad.status == 1)
        #expect(bad.errors.contains("is missing"), "\(bad.errors)")

        let offGit = try helios(["plan"], in: directory.path)
        #expect(offGit.status == 1)
        #expect(offGit.errors.contains("is not in a git repository"), "\(offGit.errors)")
        #expect(offGit.errors.contains("hint: "))
        for output in [state, bad, offGit] {
            #expect(!output.errors.contains("NSCocoaErrorDomain") && !output.errors.contains("DecodingError")
                    && !output.errors.contains("Usage:") && !output.errors.contains("CodingKeys"), "\(output.errors)")
        }
    }

    // MARK: The base

    /// A feature branch behind main shows only its own changes: the base is the merge-base.
    @Test func theDefaultBaseIsTheMergeBaseWithTheBranchItMergesInto() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job + "\n---\n" + Self.deployment], message: "web 1")
        try git.git("push", "-q", "origin", "main")
        try git.git("checkout", "-q", "-b", "feature")
        try git.commit(["api.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: api")], message: "add api")
        // main moves on after the branch left it.
        try git.git("checkout", "-q", "-f", "main")
        try git.git("clean", "-fdq")
        try git.git("reset", "-q", "--hard", "origin/main")
        try git.commit(["worker.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: worker")], message: "add worker")
        try git.git("push", "-q", "origin", "main")
        try git.git("checkout", "-q", "feature")

        let plan = try helios(["plan", "--detailed-exitcode"], in: git.workTree)
        #expect(plan.status == 2, "\(plan.errors)")
        #expect(plan.output.contains("+ job api:1"), "\(plan.output)")
        #expect(!plan.output.contains("worker"), "a change made on main since shows as a revert: \(plan.output)")
        #expect(plan.output.contains("(merge-base of origin/HEAD)") || plan.output.contains("(merge-base of origin/main)"),
                "\(plan.output)")
        let explicit = try helios(["plan", "--base", "origin/main"], in: git.workTree)
        #expect(!explicit.output.contains("worker") && explicit.output.contains("merge-base of origin/main"), "\(explicit.output)")

        let missing = try helios(["plan", "--base", "origin/release"], in: git.workTree)
        #expect(missing.status == 1)
        #expect(missing.errors.contains("hint: fetch it first: git fetch origin release:refs/remotes/origin/release"),
                "\(missing.errors)")
    }

    /// The commit that fixes broken manifests on main can go green.
    @Test func aBrokenBaseDoesNotBlockItsFix() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": "kind: Job\nname: web\n"], message: "broken")
        try git.git("push", "-q", "-u", "origin", "main")
        try git.directory.write(Self.job + "\n---\n" + Self.deployment, to: "work/web.yaml")
        let plan = try helios(["plan", "--detailed-exitcode"], in: git.workTree)
        #expect(plan.status == 2, "\(plan.errors)")
        #expect(plan.errors.contains("has invalid manifests: planned against an empty cluster"), "\(plan.errors)")
        #expect(plan.errors.contains("web.yaml:1:1: error: missing required field 'version'"))
        #expect(plan.output.contains("Plan: empty cluster"), "\(plan.output)")
    }

    // MARK: Machine-readable diagnostics

    @Test func validateSpeaksJSONAndSARIF() throws {
        let directory = try TemporaryDirectory("gate-formats")
        defer { directory.remove() }
        try directory.write("kind: Job\nname: web\nversion: \"1\"\nimage: busybox\naddCapabilities: [NET_ADMINN]\n",
                            to: "manifests/web.yaml")
        let json = try helios(["validate", "manifests", "--format", "json"], in: directory.path)
        #expect(json.status == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(document["valid"] as? Bool == false)
        #expect(document["errors"] as? Int == 1)
        let diagnostic = try #require((document["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["file"] as? String == "manifests/web.yaml")
        #expect(diagnostic["line"] as? Int == 5)
        #expect((diagnostic["message"] as? String)?.contains("did you mean 'NET_ADMIN'?") == true)

        let sarif = try helios(["validate", "manifests", "--format", "sarif"], in: directory.path)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(sarif.output.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let result = try #require(((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
        #expect(result["level"] as? String == "error")
        let location = (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
        #expect((location?["artifactLocation"] as? [String: Any])?["uri"] as? String == "manifests/web.yaml")
        #expect((location?["region"] as? [String: Any])?["startLine"] as? Int == 5)
        // The range covers the offending value: `NET_ADMINN` at columns 19–28.
        #expect((location?["region"] as? [String: Any])?["startColumn"] as? Int == 19)
        #expect((location?["region"] as? [String: Any])?["endColumn"] as? Int == 29)
        #expect(diagnostic["endColumn"] as? Int == 29)
    }

    // MARK: The example CI step

    /// examples/ci/plan-on-pull-request.sh on real repositories, as a CI job runs it: a
    /// pull-request branch checked out in a clone, the base fetched by the script.
    @Test func theExampleCIStepGivesTheRightExitAndALogThatSaysWhy() throws {
        let script = GoldenExampleTests.examples.appendingPathComponent("ci/plan-on-pull-request.sh").path
        let bin = heliosExecutable.deletingLastPathComponent().path
        func runStep(_ git: GitFixture) throws -> CommandResult {
            try execute([script], in: git.workTree, environment: [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "NO_COLOR": "1", "HELIOS_MASTER": "", "BASE_REF": "origin/main",
            ])
        }
        func branch(_ files: [String: String?], from git: GitFixture) throws {
            try git.git("checkout", "-q", "-f", "-B", "pull-request", "origin/main")
            try git.git("clean", "-fdq") // the last run's plan.md
            // Committed locally, as the CI clone has it (a pull request is not pushed to main).
            for (path, content) in files {
                if let content {
                    try git.directory.write(content, to: "work/" + path)
                } else {
                    try FileManager.default.removeItem(atPath: git.workTree + "/" + path)
                }
            }
            try git.git("add", "-A")
            try git.git("commit", "-q", "-m", "the pull request")
        }
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job + "\n---\n" + Self.deployment, "helios.yaml": "maxPrune: 0\n"], message: "main")
        try git.git("push", "-q", "origin", "main")

        try git.git("checkout", "-q", "-b", "pull-request")
        let unchanged = try runStep(git)
        #expect(unchanged.status == 0, "\(unchanged.output)\(unchanged.errors)")
        #expect(unchanged.output.contains("No changes to deploy."))

        try branch(["api.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: api")], from: git)
        let changed = try runStep(git)
        #expect(changed.status == 2, "\(changed.output)\(changed.errors)")
        #expect(changed.output.contains("➕ **job api:1"), "\(changed.output)")

        try branch(["api.yaml": "kind: Job\nname: api\n"], from: git)
        let invalid = try runStep(git)
        #expect(invalid.status == 1)
        #expect(invalid.errors.contains("api.yaml:1:1: error: missing required field 'version' in Job 'api'"), "\(invalid.errors)")

        try branch(["web.yaml": nil, "other.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: other")], from: git)
        let refused = try runStep(git)
        #expect(refused.status == 1)
        #expect(refused.errors.contains("more than maxPrune 0 allows"), "\(refused.errors)")

        // A branch behind main: main gained a worker since; the branch adds an api.
        try branch(["api.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: api")], from: git)
        try git.git("checkout", "-q", "-f", "main")
        try git.git("clean", "-fdq")
        try git.git("reset", "-q", "--hard", "origin/main")
        try git.commit(["worker.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: worker")], message: "worker")
        try git.git("push", "-q", "origin", "main")
        try git.git("checkout", "-q", "pull-request")
        let behind = try runStep(git)
        #expect(behind.status == 2, "\(behind.errors)")
        #expect(behind.output.contains("job api:1") && !behind.output.contains("worker"), "\(behind.output)")
    }

    // MARK: What the master sees

    /// Untracked and ignored manifests are left out with a warning (the master never sees
    /// them), a symbolic link is skipped from both sources alike, and --untracked plans with them.
    @Test func theCLIReadsWhatTheMasterWouldRead() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job + "\n---\n" + Self.deployment, ".gitignore": "local.yaml\n",
                        "shared/api.yaml": Self.job.replacingOccurrences(of: "name: web", with: "name: api")])
        try git.git("push", "-q", "-u", "origin", "main")
        // A committed symbolic link to a manifest: from the commit its content is the target path.
        try FileManager.default.createSymbolicLink(atPath: git.workTree + "/api-link.yaml", withDestinationPath: "shared/api.yaml")
        try git.git("add", "api-link.yaml")
        try git.git("commit", "-q", "-m", "link")
        try git.git("push", "-q", "origin", "main")
        try git.directory.write(Self.job.replacingOccurrences(of: "name: web", with: "name: scratch"), to: "work/scratch.yaml")
        try git.directory.write(Self.job.replacingOccurrences(of: "name: web", with: "name: local"), to: "work/local.yaml")

        let validate = try helios(["validate"], in: git.workTree)
        #expect(validate.status == 0, "\(validate.errors)")
        #expect(validate.errors.contains("warning: left out, as the master will not see them: 2 untracked or ignored manifests (local.yaml, scratch.yaml)"),
                "\(validate.errors)")
        #expect(validate.errors.contains("warning: left out: 1 symbolic link to manifests (api-link.yaml)"), "\(validate.errors)")
        #expect(validate.output.contains("2 files valid: 2 jobs, 1 deployment"), "\(validate.output)")

        let plan = try helios(["plan", "--detailed-exitcode"], in: git.workTree)
        #expect(plan.status == 0, "the committed tree is the base, the same files: \(plan.errors)")
        #expect(plan.output.contains("No changes"), "\(plan.output)")
        let withUntracked = try helios(["plan", "--untracked", "--detailed-exitcode"], in: git.workTree)
        #expect(withUntracked.status == 2)
        #expect(withUntracked.output.contains("working tree (tracked and untracked files)"), "\(withUntracked.output)")
        #expect(withUntracked.output.contains("+ job scratch:1") && withUntracked.output.contains("+ job local:1"))

        // The master's reading of the commit skips the link too: the commit is valid.
        let mirror = try helios(["validate", "--untracked"], in: git.workTree)
        #expect(mirror.status == 0)
    }
}
