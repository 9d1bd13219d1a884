import Foundation
import HeliosModel
import HeliosPlanner
import Testing

struct PlanRendererTests {
    func secretPlan() -> Plan {
        var old = Job(name: "api", version: "1", image: "example/api:1")
        old.env = ["DB_PASSWORD": "hunter2", "LOG_LEVEL": "info"]
        var new = old
        new.version = "2"
        new.env = ["DB_PASSWORD": "hunter3", "LOG_LEVEL": "debug"]
        let before = ClusterState(config: ClusterConfig(
            jobs: [old.id: old],
            deployments: ["api": Deployment(name: "api", jobID: old.id, hosts: ["h1", "h2"])],
            tasks: ["h1": [old.id: HostTask(jobID: old.id, goal: .start, deployment: "api")],
                    "h2": [old.id: HostTask(jobID: old.id, goal: .start, deployment: "api")]]),
            hosts: ["h1": HostState(), "h2": HostState()])
        let desired = DesiredState(jobs: [new.id: new],
                                   deployments: ["api": Deployment(name: "api", jobID: new.id, hosts: ["h1", "h2"])])
        return Planner.plan(desired: desired, actual: before,
                            base: PlanBase(kind: .git, revision: String(repeating: "a", count: 40), branch: "main"),
                            target: String(repeating: "b", count: 40), now: Date())
    }

    @Test func textFollowsTheMarkersAndSummaryOfTheDesign() {
        let text = PlanRenderer.text(secretPlan())
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "Plan: aaaaaaa (main) → bbbbbbb")
        #expect(lines.contains { $0.hasPrefix("  + job api:2:") && $0.hasSuffix("image example/api:1") })
        #expect(lines.contains("  ~ deployment api".padding(toLength: 46, withPad: " ", startingAt: 0) + "job api:1 → api:2"))
        #expect(lines.contains("      rollout 2 batches (parallelism 1): h1 | h2"))
        #expect(lines.contains { $0.hasPrefix("  - job api:1:") && $0.hasSuffix("after rollout") })
        #expect(lines.last == "Plan: 1 to add, 1 to change, 1 to remove.")
    }

    @Test(arguments: PlanRenderer.Format.allCases)
    func secretsNeverPrintButTheirChangesShow(format: PlanRenderer.Format) {
        let output = PlanRenderer.render(secretPlan(), as: format)
        #expect(!output.contains("hunter2") && !output.contains("hunter3"))
        #expect(output.contains("DB_PASSWORD"))
        #expect(output.contains("debug"), "a non-secret env change is shown")
    }

    @Test func colourOnlyWhenAsked() {
        #expect(!PlanRenderer.text(secretPlan()).contains("\u{1B}["))
        #expect(PlanRenderer.text(secretPlan(), color: true).contains("\u{1B}[32m  + job"))
    }

    @Test(arguments: PlanRenderer.Format.allCases)
    func theSamePlanRendersByteIdentically(format: PlanRenderer.Format) {
        let first = PlanRenderer.render(secretPlan(), as: format)
        for _ in 0..<10 { #expect(PlanRenderer.render(secretPlan(), as: format) == first) }
    }

    @Test func jsonCarriesTheVersionedSchema() throws {
        let json = try JSONSerialization.jsonObject(with: Data(PlanRenderer.json(secretPlan()).utf8)) as! [String: Any]
        #expect(json["formatVersion"] as? Int == 2)
        #expect((json["summary"] as? [String: Int]) == ["add": 1, "change": 1, "remove": 1])
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(changes.map { $0["type"] as? String } == ["createJob", "updateDeployment", "removeJob"])
        let spec = try #require(changes[0]["spec"] as? [String: Any])
        #expect((spec["env"] as? [String: String])?["DB_PASSWORD"] == "(sensitive)")
        // The first batch's writes now, the second's pending, and the rollout they make.
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        #expect(tasks.map { "\($0["type"] as! String) \($0["host"] as! String)" } == ["undeploy h1", "deploy h1"])
        let pending = try #require(json["pending"] as? [[String: Any]])
        #expect(pending.map { "\($0["type"] as! String) \($0["host"] as! String)" } == ["undeploy h2", "deploy h2"])
        let rollouts = try #require(json["rollouts"] as? [[String: Any]])
        #expect(rollouts.first?["batches"] as? [[String]] == [["h1"], ["h2"]])
        #expect(rollouts.first?["state"] as? String == "ROLLING_OUT")
        #expect(rollouts.first?["batchStartedAt"] == nil, "when it is applied is not part of the plan")
    }

    @Test func aSavedPlanReadBackHasTheSameContentAndPresentationDoesNotCount() throws {
        let plan = secretPlan()
        let saved = try CanonicalJSON.decode(PlanDocument.self, from: Data(PlanRenderer.json(plan).utf8))
        #expect(saved == PlanDocument(plan))
        var presented = plan
        presented.target = "working tree"
        presented.base.revision = nil
        presented.warnings = ["something"]
        #expect(PlanDocument(presented).hasSameContent(as: saved))
        var moved = plan
        moved.base.checkIndex = 7
        #expect(!PlanDocument(moved).hasSameContent(as: saved))
        var other = plan
        other.tasks.removeLast()
        #expect(!PlanDocument(other).hasSameContent(as: saved))
        var later = plan
        later.pending = []
        #expect(!PlanDocument(later).hasSameContent(as: saved))
    }
}
