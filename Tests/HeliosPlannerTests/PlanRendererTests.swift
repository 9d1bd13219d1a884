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
        #expect(lines.last == "Plan: 0 to add, 1 to change, 0 to remove, 1 to replace.")
    }

    @Test(arguments: PlanRenderer.Format.allCases)
    func secretsNeverPrintButTheirChangesShow(format: PlanRenderer.Format) {
        let output = PlanRenderer.render(secretPlan(), as: format)
        #expect(!output.contains("hunter2") && !output.contains("hunter3"))
        #expect(output.contains("DB_PASSWORD"))
        #expect(output.contains("debug"), "a non-secret env change is shown")
    }

    /// A secret by reference: the plan names the secret and shows a change of reference; the
    /// plain value it replaced is still never shown.
    @Test(arguments: PlanRenderer.Format.allCases)
    func secretReferencesShowTheirNameAndTheirChanges(format: PlanRenderer.Format) {
        var plain = Job(name: "api", version: "1", image: "example/api:1")
        plain.env = ["DB_PASS": "hunter2"]
        var referenced = Job(name: "api", version: "2", image: "example/api:1")
        referenced.secrets = ["DB_PASS": "db-password"]
        var moved = referenced
        moved.version = "3"
        moved.secrets = ["DB_PASS": "db-password-2026"]
        func change(_ old: Job, _ new: Job) -> String {
            let before = ClusterState(config: ClusterConfig(
                jobs: [old.id: old], deployments: ["api": Deployment(name: "api", jobID: old.id, hosts: ["h1"])],
                tasks: ["h1": [old.id: HostTask(jobID: old.id, goal: .start, deployment: "api")]]),
                hosts: ["h1": HostState()])
            let desired = DesiredState(jobs: [new.id: new], deployments: ["api": Deployment(name: "api", jobID: new.id, hosts: ["h1"])])
            return PlanRenderer.render(planning(desired, against: before), as: format)
        }
        let toReference = change(plain, referenced)
        #expect(!toReference.contains("hunter2"))
        #expect(toReference.contains("db-password"))
        let newReference = change(referenced, moved)
        #expect(newReference.contains("db-password-2026"))
        if format == .text {
            #expect(toReference.contains("env.DB_PASS (sensitive) → (secret db-password)"))
            #expect(newReference.contains("env.DB_PASS (secret db-password) → (secret db-password-2026)"))
        }
    }

    @Test func theHTMLFormIsTheTextFormsEntriesEscaped() {
        var plan = secretPlan()
        plan.warnings = ["deployment 'api': <script>alert(1)</script> & more"]
        let html = PlanRenderer.html(plan)
        #expect(html.hasPrefix("<section class=\"plan\">"))
        #expect(html.contains(#"<li class="plan-add"><span class="marker" aria-label="add">+</span> <code>job api:2:"#))
        #expect(html.contains("<li>env.DB_PASSWORD (sensitive) changed</li>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more") && !html.contains("<script>"))
        #expect(html.contains(#"<strong data-test="plan-summary">"#))
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
        #expect((json["summary"] as? [String: Int]) == ["add": 1, "change": 1, "remove": 1, "replace": 1])
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

    // MARK: What the plan says

    func planning(_ desired: DesiredState, against before: ClusterState = ClusterState()) -> Plan {
        Planner.plan(desired: desired, actual: before, base: PlanBase(kind: .cluster), target: "test", now: Date())
    }

    /// 500 new deployments: the comment stays under GitHub's 65,536 characters and says where
    /// the rest is; the summary and the warnings come before any cut.
    @Test func markdownFitsAPullRequestCommentAndSaysWhatItLeftOut() {
        var desired = DesiredState()
        for index in 0..<500 {
            let job = Job(name: "service-\(index)", version: "1", image: "registry.example.com/team/service-\(index):1.0.0")
            desired.jobs[job.id] = job
            desired.deployments["service-\(index)"] = Deployment(name: "service-\(index)", jobID: job.id,
                                                                 hosts: (0..<5).map { "host-\(index * 5 + $0)" })
        }
        let plan = planning(desired, against: ClusterState(hosts: Dictionary(uniqueKeysWithValues: (0..<2500).map { ("host-\($0)", HostState()) })))
        let markdown = PlanRenderer.markdown(plan)
        #expect(markdown.count < PlanRenderer.markdownLimit)
        #expect(markdown.contains("**1000 to add, 0 to change, 0 to remove.**"))
        #expect(markdown.contains("more changes not shown"), "\(markdown.suffix(300))")
        #expect(markdown.contains("helios plan --format json"))
        #expect(markdown.contains("<details><summary>➕ **deployment service-0** — job service-0:1</summary>"))
    }

    @Test func controlCharactersFromManifestsNeverReachATerminal() {
        var job = Job(name: "web", version: "1", image: "busybox")
        job.command = ["sh", "-c", "echo \u{1B}[2K\rall good"]
        var old = job
        old.command = ["true"]
        let plan = planning(DesiredState(jobs: [job.id: job], deployments: ["web": Deployment(name: "web", jobID: job.id, hosts: ["h"])]),
                            against: ClusterState(config: ClusterConfig(jobs: [old.id: old],
                                                                        deployments: ["web": Deployment(name: "web", jobID: old.id, hosts: ["h"])]),
                                                  hosts: ["h": HostState()]))
        for format in PlanRenderer.Format.allCases {
            let rendered = PlanRenderer.render(plan, as: format)
            #expect(!rendered.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" }, "\(format)")
        }
        #expect(PlanRenderer.text(plan).contains("\\u{1b}[2K\\u{d}all good"))
    }

    @Test func thePlanSaysWhatHappensInTheUnitsPeopleWrite() {
        var old = Job(name: "web", version: "1", image: "busybox")
        old.resources = Resources(memory: 268_435_456)
        old.gracePeriod = 5000
        var new = old
        new.version = "2"
        new.resources = Resources(memory: 536_870_912)
        new.gracePeriod = 90_000
        let gone = Job(name: "gone", version: "1", image: "busybox")
        let hosts = ["h1", "h2"]
        let before = ClusterState(config: ClusterConfig(
            jobs: [old.id: old, gone.id: gone],
            deployments: ["web": Deployment(name: "web", jobID: old.id, hosts: hosts),
                          "gone": Deployment(name: "gone", jobID: gone.id, hosts: hosts)],
            tasks: Dictionary(uniqueKeysWithValues: hosts.map { ($0, [old.id: HostTask(jobID: old.id, goal: .start, deployment: "web"),
                                                                     gone.id: HostTask(jobID: gone.id, goal: .start, deployment: "gone")]) })),
            hosts: ["h1": HostState(), "h2": HostState()])
        var desired = DesiredState(jobs: [new.id: new], deployments: ["web": Deployment(name: "web", jobID: new.id, hosts: hosts, goal: .stop)])
        desired.settings.maxPrune = .percent(100)
        let text = PlanRenderer.text(planning(desired, against: before))
        #expect(text.contains("resources.memory 256Mi → 512Mi"), "\(text)")
        #expect(text.contains("gracePeriod 5s → 90s"), "\(text)")
        #expect(text.contains("stops its container (kept, not removed) on: h1, h2"), "\(text)")
        let removal = text.components(separatedBy: "- deployment gone").last?.split(separator: "\n").dropFirst().first ?? ""
        #expect(removal.contains("its tasks are removed at once from: h1, h2"), "\(text)")
    }

    @Test func repeatedWarningsAreSaidOnceWithTheirCount() {
        #expect(PlanRenderer.grouped(["a", "b", "a", "a"]) == ["(×3) a", "b"])
    }
}
