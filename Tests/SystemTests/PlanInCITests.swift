import Foundation
import HeliosTestSupport
import Testing

/// `helios plan` as a CI step: in a clone with a changed manifest, offline, against the
/// branch it will merge into.
struct PlanInCITests {
    static let job = """
        kind: Job
        name: web
        version: "1"
        image: example/web:1
        env: { API_TOKEN: tok-old-secret }
        """
    static let deployment = "kind: Deployment\nname: web-prod\njob: web\nhosts: [agent-1, agent-2]\n"

    func helios(_ arguments: [String], in directory: String) throws -> CommandResult {
        try execute([heliosExecutable.path] + arguments, in: directory, environment: ["NO_COLOR": "1"])
    }

    @Test func aChangedManifestPrintsTheChangeAsMarkdownAndExits2() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["jobs/web.yaml": Self.job, "deployments/web.yaml": Self.deployment])
        try git.git("push", "-q", "-u", "origin", "main")

        // Nothing changed yet: exit 0, against the upstream branch by default.
        let unchanged = try helios(["plan", "--detailed-exitcode"], in: git.workTree)
        #expect(unchanged.status == 0, "\(unchanged.errors)")
        #expect(unchanged.output.contains("No changes"))

        // A pull request's change, uncommitted in the CI clone: a version bump and a new token.
        try git.directory.write(Self.job.replacingOccurrences(of: "\"1\"", with: "\"2\"")
            .replacingOccurrences(of: "tok-old-secret", with: "tok-new-secret"), to: "work/jobs/web.yaml")
        let plan = try helios(["plan", "--base", "origin/main", "--format", "markdown", "--detailed-exitcode"],
                              in: git.workTree)
        #expect(plan.status == 2, "\(plan.errors)")
        #expect(plan.output.contains("**0 to add, 1 to change, 0 to remove, 1 to replace.**"), "\(plan.output)")
        #expect(plan.output.contains("<details><summary>🔄 **deployment web-prod** — job web:1 → web:2</summary>"), "\(plan.output)")
        #expect(plan.output.contains("- rollout 2 batches (parallelism 1): agent-1 | agent-2"))
        #expect(plan.output.contains("env.API_TOKEN (sensitive) changed"))
        #expect(!plan.output.contains("tok-new-secret") && !plan.output.contains("tok-old-secret"), "a secret leaked into the plan: \(plan.output)")

        // Without --detailed-exitcode, changes are still a success.
        #expect(try helios(["plan", "--base", "origin/main"], in: git.workTree).status == 0)
    }

    @Test func applyDryRunPrintsEveryStepAndWritesNothing() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job + "\n---\n" + Self.deployment])
        try git.directory.write(Self.job.replacingOccurrences(of: "\"1\"", with: "\"2\"") + "\n---\n" + Self.deployment,
                                to: "work/web.yaml")
        let result = try helios(["apply", "--dry-run"], in: git.workTree)
        #expect(result.status == 0, "\(result.errors)")
        // The plan shows the whole rollout; the steps are exactly what the master writes now:
        // the first batch and the rollout's status. The second batch and the old job's removal wait.
        #expect(result.output.contains("rollout 2 batches (parallelism 1): agent-1 | agent-2"), "\(result.output)")
        #expect(result.output.contains("after rollout"))
        let steps = result.output.components(separatedBy: "Steps").last ?? ""
        #expect(steps.contains("check   /config/version is at version 0"))
        #expect(steps.contains("create  /config/jobs/web:2:"))
        #expect(steps.contains("delete  /config/hosts/agent-1/jobs/web:1:"))
        #expect(steps.contains("create  /config/hosts/agent-1/jobs/web:2:"))
        #expect(steps.contains("create  /status/deployments/web-prod"))
        #expect(!steps.contains("/config/hosts/agent-2/"), "a later batch is written now: \(steps)")
        #expect(!steps.split(separator: "\n").contains { $0.contains("delete  /config/jobs/web:1:") && !$0.contains("/hosts") },
                "the old job goes before its rollout ends: \(steps)")
        #expect(steps.contains("set     /config/version"))

        // Without --dry-run and without a master, apply refuses clearly.
        let refused = try helios(["apply"], in: git.workTree)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("--dry-run"))
    }

    @Test func aBrokenWorkingTreeExits1WithDiagnostics() throws {
        let git = try GitFixture()
        defer { git.remove() }
        try git.commit(["web.yaml": Self.job])
        try git.directory.write("kind: Job\nname: web\n", to: "work/web.yaml")
        let result = try helios(["plan", "--detailed-exitcode"], in: git.workTree)
        #expect(result.status == 1)
        #expect(result.errors.contains("web.yaml:1:1: error: missing required field 'version' in Job 'web'"))
    }
}
