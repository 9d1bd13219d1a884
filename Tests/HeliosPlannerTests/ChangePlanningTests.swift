import Foundation
import HeliosModel
import HeliosPlanner
import HeliosTestSupport
import Testing

/// Planning just what changed must give the plan of planning everything, whenever the cluster
/// holds what the previous desired state declared.
struct ChangePlanningTests {
    let hosts: [String: HostState] = [
        "a": HostState(labels: ["role": "web", "zone": "1"]), "b": HostState(labels: ["role": "web", "zone": "2"]),
        "c": HostState(labels: ["role": "db", "zone": "1"]), "d": HostState(labels: ["role": "db", "zone": "2"]),
        "e": HostState(labels: ["role": "web", "zone": "3"]),
    ]

    func randomJob(_ random: inout SeededGenerator) -> Job {
        let name = ["web", "api", "db"].randomElement(using: &random)!
        var job = Job(name: name, version: "\(Int.random(in: 1...3, using: &random))", image: "busybox")
        if Bool.random(using: &random) { job.env = ["MODE": ["a", "b"].randomElement(using: &random)!] }
        return job
    }

    func randomDeployment(_ name: String, jobs: [Job], _ random: inout SeededGenerator) -> Deployment {
        let job = jobs.randomElement(using: &random)!
        let hosts = ["a", "b", "c", "d", "e"].filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
        let selector = Int.random(in: 0..<4, using: &random) == 0
            ? [try! HostSelector(parsing: ["role=web", "zone!=1", "role in (db)"].randomElement(using: &random)!)] : []
        return Deployment(name: name, jobID: job.id, hosts: hosts, hostSelector: selector,
                          goal: Int.random(in: 0..<5, using: &random) == 0 ? .stop : .start,
                          protect: Int.random(in: 0..<6, using: &random) == 0,
                          rollout: RolloutOptions(parallelism: Int.random(in: 1...3, using: &random)))
    }

    /// A desired state; jobs only deployments use, plus maybe one unused.
    func randomState(_ random: inout SeededGenerator) -> DesiredState {
        var jobs: [JobID: Job] = [:]
        for _ in 0..<Int.random(in: 1...5, using: &random) {
            let job = randomJob(&random)
            if !jobs.keys.contains(where: { $0.nameAndVersion == job.id.nameAndVersion }) { jobs[job.id] = job }
        }
        var state = DesiredState(jobs: jobs)
        for index in 0..<Int.random(in: 0...6, using: &random) {
            let deployment = randomDeployment("d\(index)", jobs: Array(jobs.values), &random)
            state.deployments[deployment.name] = deployment
        }
        return state
    }

    /// The next commit: a few deployments and jobs edited, added or removed.
    func edit(_ state: DesiredState, _ random: inout SeededGenerator) -> DesiredState {
        var next = state
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                let job = randomJob(&random)
                if !next.jobs.keys.contains(where: { $0.nameAndVersion == job.id.nameAndVersion }) { next.jobs[job.id] = job }
            case 1:
                let used = Set(next.deployments.values.map(\.jobID))
                if let unused = next.jobs.keys.filter({ !used.contains($0) }).randomElement(using: &random) {
                    next.jobs[unused] = nil
                }
            case 2:
                if let name = next.deployments.keys.randomElement(using: &random) { next.deployments[name] = nil }
            default:
                guard !next.jobs.isEmpty else { continue }
                let name = "d\(Int.random(in: 0..<8, using: &random))"
                next.deployments[name] = randomDeployment(name, jobs: Array(next.jobs.values), &random)
            }
        }
        next.settings.prune = Int.random(in: 0..<5, using: &random) != 0
        next.settings.maxPrune = .count(Int.random(in: 0...3, using: &random))
        return next
    }

    @Test func planningTheChangeGivesTheFullPlan() {
        var differing = 0
        for seed in UInt64(1)...600 {
            var random = SeededGenerator(state: seed)
            var before = randomState(&random)
            before.settings.maxPrune = .count(3)
            let after = edit(before, &random)
            // Settings changes plan in full by design; keep them equal to exercise the narrowed path.
            var next = after
            next.settings = before.settings
            let actual = Planner.cluster(declaring: before, hosts: hosts)
            let change = DesiredChange(from: before, to: next)
            let full = Planner.plan(desired: next, actual: actual, base: PlanBase(kind: .cluster), target: "t", now: Date())
            let narrowed = Planner.plan(desired: next, actual: actual, change: change, base: PlanBase(kind: .cluster), target: "t", now: Date())
            #expect(narrowed.changes == full.changes, "seed \(seed)")
            #expect(narrowed.tasks == full.tasks, "seed \(seed)")
            #expect(narrowed.errors == full.errors, "seed \(seed)")
            #expect(Set(narrowed.warnings).isSubset(of: full.warnings), "seed \(seed)")
            if !full.isEmpty { differing += 1 }
        }
        // The generator must produce real changes, or the comparison above proves nothing.
        #expect(differing > 400)
    }

    @Test func planningTheChangeMidRolloutGivesTheFullPlan() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        var differing = 0
        for seed in UInt64(1)...400 {
            var random = SeededGenerator(state: seed)
            var before = randomState(&random)
            before.settings.maxPrune = .count(3)
            var mid = edit(before, &random)
            mid.settings = before.settings
            // The master applied `mid`: its rollouts are under way, hosts still run the jobs before.
            let settled = Planner.cluster(declaring: before, hosts: hosts)
            let midPlan = Planner.plan(desired: mid, actual: settled, base: PlanBase(kind: .cluster), target: "t", now: now)
            guard midPlan.errors.isEmpty else { continue }
            var actual = settled.applying(midPlan)
            // Some rollouts moved on a few batches (maybe every host, not yet closed): the jobs they
            // retire or return to may run nowhere any more.
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                for status in actual.rollouts.values.sorted(by: { $0.deployment < $1.deployment }) where status.state == .rollingOut {
                    for host in status.batches[status.batch] {
                        actual.statuses[host, default: [:]][status.jobID] = TaskStatus(jobID: status.jobID, goal: .start, state: .running)
                    }
                    if let step = Rollouts.advance(status, in: actual, now: now) {
                        actual = actual.applying(step)
                    }
                }
            }
            var next = edit(mid, &random)
            next.settings = mid.settings
            let change = DesiredChange(from: mid, to: next)
            let full = Planner.plan(desired: next, actual: actual, base: PlanBase(kind: .cluster), target: "t", now: now)
            let narrowed = Planner.plan(desired: next, actual: actual, change: change, base: PlanBase(kind: .cluster),
                                        target: "t", now: now)
            #expect(narrowed.changes == full.changes, "seed \(seed)")
            #expect(narrowed.tasks == full.tasks, "seed \(seed)")
            #expect(narrowed.pending == full.pending, "seed \(seed)")
            #expect(narrowed.rollouts == full.rollouts, "seed \(seed)")
            #expect(narrowed.errors == full.errors, "seed \(seed)")
            if !full.isEmpty && !actual.rollouts.isEmpty { differing += 1 }
        }
        #expect(differing > 100)
    }

    @Test func aSettingsChangePlansInFull() {
        let job = Job(name: "web", version: "1", image: "busybox")
        let before = DesiredState(jobs: [job.id: job], deployments: [
            "one": Deployment(name: "one", jobID: job.id, hosts: ["a"]),
            "two": Deployment(name: "two", jobID: job.id, hosts: ["b"]),
        ])
        var after = DesiredState(jobs: before.jobs, settings: SyncSettings(maxPrune: .count(1)))
        after.deployments["one"] = before.deployments["one"]
        let actual = Planner.cluster(declaring: before, hosts: hosts)
        // Only the settings and "two" changed; prune allows one removal: "two" goes.
        let change = DesiredChange(from: before, to: after)
        #expect(change.settings && change.deployments == ["two"])
        let narrowed = Planner.plan(desired: after, actual: actual, change: change, base: PlanBase(kind: .cluster), target: "t", now: Date())
        #expect(narrowed == Planner.plan(desired: after, actual: actual, base: PlanBase(kind: .cluster), target: "t", now: Date()))
        #expect(narrowed.summary == PlanSummary(add: 0, change: 0, remove: 1))
        #expect(narrowed.tasks == [.undeploy(host: "b", job.id)])
    }
}
