import Foundation
import HeliosModel
@testable import HeliosPlanner
import Testing

/// Rollouts as data, table by table (in the manner of Nomad's reconciler tests): no ZooKeeper,
/// no clock. A world holds the cluster as plain values; the planner stages a change, agents'
/// reports are written by hand, and `Rollouts.advance` is called at chosen instants.
struct RolloutWorld {
    static let v1 = Job(name: "web", version: "1", image: "web:1")
    static let v2 = Job(name: "web", version: "2", image: "web:2")
    static let v3 = Job(name: "web", version: "3", image: "web:3")
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    var cluster: ClusterState
    var deployment: Deployment

    /// `web` running `v1` on `hosts` (all UP), applied and settled.
    init(hosts: [String] = ["h1", "h2", "h3"], options: RolloutOptions = RolloutOptions(), selector: [String] = [],
         labels: [String: [String: String]] = [:]) {
        deployment = Deployment(name: "web", jobID: Self.v1.id, hosts: selector.isEmpty ? hosts : [],
                                hostSelector: selector.map { try! HostSelector(parsing: $0) }, rollout: options)
        var known: [String: HostState] = [:]
        for host in hosts { known[host] = HostState(labels: labels[host] ?? [:]) }
        cluster = ClusterState(hosts: known, checkIndex: 1)
        deploy(Self.v1, at: Self.t0.addingTimeInterval(-3600))
        for host in hosts { report(host, Self.v1, .running) }
        settle(at: Self.t0.addingTimeInterval(-3600))
    }

    var rollout: RolloutStatus? { cluster.rollouts["web"] }

    /// Plans `job` for the deployment (with `change` made to it) and applies the plan.
    @discardableResult
    mutating func deploy(_ job: Job, at now: Date = t0, revision: String? = "rev",
                         _ change: (inout Deployment) -> Void = { _ in }) -> Plan {
        deployment.jobID = job.id
        change(&deployment)
        let desired = DesiredState(jobs: [job.id: job], deployments: ["web": deployment])
        let plan = Planner.plan(desired: desired, actual: cluster, base: PlanBase(kind: .cluster, checkIndex: cluster.checkIndex),
                                target: "t", now: now, revision: revision)
        cluster = cluster.applying(plan)
        return plan
    }

    mutating func report(_ host: String, _ job: Job, _ state: TaskStatus.State, throttled: TaskStatus.Throttle? = nil) {
        cluster.statuses[host, default: [:]][job.id] = TaskStatus(jobID: job.id, goal: .start, state: state, throttled: throttled)
    }

    mutating func down(_ host: String) { cluster.hosts[host]?.up = false }
    mutating func up(_ host: String) { cluster.hosts[host]?.up = true }

    /// One look of the leader at `now`; returns what it wrote.
    @discardableResult
    mutating func tick(at now: Date) -> Plan? {
        guard let status = rollout, let plan = Rollouts.advance(status, in: cluster, now: now) else { return nil }
        cluster = cluster.applying(plan)
        return plan
    }

    /// Ticks until the rollout ends, reporting each new batch RUNNING; at most 20 looks.
    mutating func settle(at now: Date) {
        for look in 0..<20 {
            guard let status = rollout, status.state == .rollingOut else { return }
            for host in status.batches[status.batch] { report(host, Self.job(status.jobID), .running) }
            // Each look a little past minHealthy: every batch counts at its second look.
            tick(at: now.addingTimeInterval(Double(look) * (Double(deployment.rollout.minHealthy) / 1000 + 1)))
        }
    }

    static func job(_ id: JobID) -> Job { [v1, v2, v3].first { $0.id == id }! }

    /// The versions each host has tasks for.
    func versions(_ host: String) -> [String] {
        (cluster.config.tasks[host] ?? [:]).keys.map(\.version).sorted()
    }

    var jobVersions: [String] { cluster.config.jobs.keys.map(\.version).sorted() }
}

// MARK: Staging

struct RolloutStagingTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var parallelism = 1
        var overlap = false
        var down: [String] = []
        var unregistered: [String] = []
        /// Hosts, batch by batch, of the rollout status written.
        let batches: [[String]]
        var skipped: [String] = []
        /// The hosts whose task moves to v2 now.
        let movedNow: [String]
        /// How many task writes wait for later batches.
        let pending: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "one host per batch", batches: [["h1"], ["h2"], ["h3"]], movedNow: ["h1"], pending: 4),
        Case(name: "two per batch", parallelism: 2, batches: [["h1", "h2"], ["h3"]], movedNow: ["h1", "h2"], pending: 2),
        Case(name: "all at once", parallelism: 3, batches: [["h1", "h2", "h3"]], movedNow: ["h1", "h2", "h3"], pending: 0),
        Case(name: "parallelism beyond the hosts", parallelism: 10, batches: [["h1", "h2", "h3"]],
             movedNow: ["h1", "h2", "h3"], pending: 0),
        Case(name: "parallelism 0 counts as 1", parallelism: 0, batches: [["h1"], ["h2"], ["h3"]], movedNow: ["h1"], pending: 4),
        Case(name: "a DOWN host takes no batch and moves now", down: ["h2"], batches: [["h1"], ["h3"]], skipped: ["h2"],
             movedNow: ["h1", "h2"], pending: 2),
        Case(name: "the first host DOWN", down: ["h1"], batches: [["h2"], ["h3"]], skipped: ["h1"],
             movedNow: ["h1", "h2"], pending: 2),
        Case(name: "two hosts DOWN", down: ["h1", "h3"], batches: [["h2"]], skipped: ["h1", "h3"],
             movedNow: ["h1", "h2", "h3"], pending: 0),
        Case(name: "a host never registered is skipped like a DOWN one", unregistered: ["h3"], batches: [["h1"], ["h2"]],
             skipped: ["h3"], movedNow: ["h1", "h3"], pending: 2),
        Case(name: "overlap keeps the old task of the first batch for now", overlap: true, batches: [["h1"], ["h2"], ["h3"]],
             movedNow: ["h1"], pending: 5),
        Case(name: "overlap with two per batch", parallelism: 2, overlap: true, batches: [["h1", "h2"], ["h3"]],
             movedNow: ["h1", "h2"], pending: 4),
        Case(name: "overlap on a DOWN host does not wait", overlap: true, down: ["h1"], batches: [["h2"], ["h3"]],
             skipped: ["h1"], movedNow: ["h1", "h2"], pending: 3),
    ]

    @Test(arguments: cases)
    func aVersionBumpIsStagedBatchByBatch(_ testCase: Case) {
        var world = RolloutWorld(options: RolloutOptions(parallelism: testCase.parallelism, overlap: testCase.overlap))
        for host in testCase.down { world.down(host) }
        for host in testCase.unregistered { world.cluster.hosts[host] = nil }
        let plan = world.deploy(RolloutWorld.v2)
        #expect(plan.rollouts.count == 1)
        let status = plan.rollouts[0]
        #expect(status.state == .rollingOut)
        #expect(status.batches == testCase.batches)
        #expect(status.skipped == testCase.skipped)
        #expect(status.previousJobID == RolloutWorld.v1.id)
        #expect(status.batchStartedAt == RolloutWorld.t0)
        #expect(status.revision == "rev")
        let moved = plan.tasks.compactMap { if case .deploy(let host, let task) = $0, task.jobID == RolloutWorld.v2.id { host } else { nil } }
        #expect(moved == testCase.movedNow)
        #expect(plan.pending.count == testCase.pending)
        // Every task write is either made now or pending: nothing is lost between preview and rollout.
        #expect(plan.tasks.count + plan.pending.count == 6)
        // The old job stays until the rollout is done, unless nothing waits.
        let removal = plan.changes.compactMap { if case .removeJob(let id, let after) = $0 { (id, after) } else { nil } }
        #expect(removal.map(\.0) == [RolloutWorld.v1.id])
        #expect(removal.first?.1 == true)
        #expect(status.retiring == [RolloutWorld.v1.id])
        #expect(world.jobVersions == ["1", "2"])
    }

    @Test func everyHostDownWritesEverythingAtOnceWithoutARollout() {
        var world = RolloutWorld()
        for host in ["h1", "h2", "h3"] { world.down(host) }
        let plan = world.deploy(RolloutWorld.v2)
        #expect(plan.rollouts.isEmpty)
        #expect(plan.pending.isEmpty)
        #expect(world.versions("h1") == ["2"] && world.versions("h3") == ["2"])
        #expect(world.jobVersions == ["2"])
    }

    @Test func aNewDeploymentRollsOutToo() {
        var world = RolloutWorld()
        var other = Deployment(name: "api", jobID: RolloutWorld.v3.id, hosts: ["h1", "h2"])
        other.rollout.parallelism = 1
        let desired = DesiredState(jobs: [RolloutWorld.v1.id: RolloutWorld.v1, RolloutWorld.v3.id: RolloutWorld.v3],
                                   deployments: ["web": world.deployment, "api": other])
        let plan = Planner.plan(desired: desired, actual: world.cluster, base: PlanBase(kind: .cluster), target: "t",
                                now: RolloutWorld.t0)
        #expect(plan.rollouts.map(\.deployment) == ["api"])
        #expect(plan.rollouts.first?.previousJobID == nil)
        #expect(plan.rollouts.first?.batches == [["h1"], ["h2"]])
    }

    @Test func stoppingADeploymentIsNoRollout() {
        var world = RolloutWorld()
        let plan = world.deploy(RolloutWorld.v1) { $0.goal = .stop }
        #expect(plan.rollouts.isEmpty)
        #expect(plan.pending.isEmpty)
    }

    @Test func theReviewedRolloutListsTheSkippedHosts() {
        var world = RolloutWorld()
        world.down("h2")
        let plan = world.deploy(RolloutWorld.v2)
        guard case .updateDeployment(_, _, _, let rollout?) = plan.changes.first(where: {
            if case .updateDeployment = $0 { true } else { false }
        }) else { Issue.record("no deployment update"); return }
        #expect(rollout.batches.map { $0.map(\.host) } == [["h1"], ["h3"]])
        #expect(rollout.skipped.map(\.host) == ["h2"])
        #expect(PlanRenderer.text(plan).contains("rollout 2 batches (parallelism 1): h1 | h3; at once, not waited for (DOWN or not registered): h2"))
    }
}

// MARK: Advancing one batch

struct RolloutAdvanceTableTests {
    typealias Report = (state: TaskStatus.State, throttled: TaskStatus.Throttle?)

    struct Case: CustomTestStringConvertible, @unchecked Sendable { // immutable test data only
        let name: String
        var options = RolloutOptions()
        /// What h1 (the first batch) reports of v2; nil: nothing yet.
        var report: Report? = (.running, nil)
        var h1Down = false
        /// Seconds since the batch began.
        var elapsed: TimeInterval = 1
        /// Seconds h1 has been seen healthy before this look (nil: first seen now).
        var healthyFor: TimeInterval?
        let state: RolloutStatus.State
        let batch: Int
        /// Whether the look writes anything.
        var writes = true
        /// The versions h1 and h2 have tasks for afterwards.
        var h1: [String] = ["2"]
        var h2: [String] = ["1"]
        var errorContains: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "healthy: the next batch", state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "nothing reported yet: wait", report: nil, state: .rollingOut, batch: 0, writes: false),
        Case(name: "pulling: wait", report: (.pullingImage, nil), state: .rollingOut, batch: 0, writes: false),
        Case(name: "creating: wait", report: (.creating, nil), state: .rollingOut, batch: 0, writes: false),
        Case(name: "starting: wait", report: (.starting, nil), state: .rollingOut, batch: 0, writes: false),
        Case(name: "health checking: wait", report: (.healthChecking, nil), state: .rollingOut, batch: 0, writes: false),
        Case(name: "exited once: wait", report: (.exited, nil), state: .rollingOut, batch: 0, writes: false),
        Case(name: "failed: rolled back", report: (.failed, nil), state: .rolledBack, batch: 0, h1: ["1"],
             errorContains: "host h1: FAILED"),
        Case(name: "flapping: rolled back", report: (.exited, .flapping), state: .rolledBack, batch: 0, h1: ["1"],
             errorContains: "EXITED FLAPPING"),
        Case(name: "image missing: rolled back", report: (.pullingImage, .imageMissing), state: .rolledBack, batch: 0,
             h1: ["1"], errorContains: "IMAGE_MISSING"),
        Case(name: "pull failed: rolled back", report: (.pullingImage, .imagePullFailed), state: .rolledBack, batch: 0,
             h1: ["1"], errorContains: "IMAGE_PULL_FAILED"),
        Case(name: "failed without autoRollback: stays where it stopped", options: RolloutOptions(autoRollback: false),
             report: (.failed, nil), state: .failed, batch: 0, h1: ["2"], errorContains: "host h1: FAILED"),
        Case(name: "failed with ignoreFailures: moves on", options: RolloutOptions(ignoreFailures: true),
             report: (.failed, nil), state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "flapping with ignoreFailures but still starting elsewhere: moves on",
             options: RolloutOptions(ignoreFailures: true), report: (.exited, .flapping), state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "timed out: rolled back", options: RolloutOptions(timeout: 30_000), report: (.healthChecking, nil),
             elapsed: 31, state: .rolledBack, batch: 0, h1: ["1"], errorContains: "h1 (HEALTHCHECKING)"),
        Case(name: "timed out, nothing reported", options: RolloutOptions(timeout: 30_000), report: nil, elapsed: 30,
             state: .rolledBack, batch: 0, h1: ["1"], errorContains: "h1 (no status yet)"),
        Case(name: "not yet timed out", options: RolloutOptions(timeout: 30_000), report: (.healthChecking, nil),
             elapsed: 29, state: .rollingOut, batch: 0, writes: false),
        Case(name: "timed out without autoRollback: failed", options: RolloutOptions(timeout: 30_000, autoRollback: false),
             report: (.starting, nil), elapsed: 31, state: .failed, batch: 0, errorContains: "not healthy after 31 s"),
        Case(name: "timed out with ignoreFailures: moves on", options: RolloutOptions(timeout: 30_000, ignoreFailures: true),
             report: (.starting, nil), elapsed: 31, state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "minHealthy: first seen healthy is remembered in the status",
             options: RolloutOptions(minHealthy: 10_000), state: .rollingOut, batch: 0),
        Case(name: "minHealthy: healthy long enough", options: RolloutOptions(minHealthy: 10_000), healthyFor: 10,
             state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "minHealthy: not yet long enough", options: RolloutOptions(minHealthy: 10_000), healthyFor: 5,
             state: .rollingOut, batch: 0, writes: false),
        Case(name: "a DOWN host in the batch is skipped", report: nil, h1Down: true, state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "a DOWN host never times a batch out", options: RolloutOptions(timeout: 30_000), report: nil, h1Down: true,
             elapsed: 31, state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "a DOWN host's old report does not fail it", report: (.failed, nil), h1Down: true,
             state: .rollingOut, batch: 1, h2: ["2"]),
        Case(name: "overlap: the healthy host's old task goes", options: RolloutOptions(overlap: true),
             state: .rollingOut, batch: 1, h1: ["2"], h2: ["1", "2"]),
        Case(name: "overlap: waiting keeps both", options: RolloutOptions(overlap: true), report: (.starting, nil),
             state: .rollingOut, batch: 0, writes: false, h1: ["1", "2"]),
        Case(name: "overlap: a failure returns to the old task alone", options: RolloutOptions(overlap: true),
             report: (.failed, nil), state: .rolledBack, batch: 0, h1: ["1"]),
    ]

    @Test(arguments: cases)
    func theFirstBatch(_ testCase: Case) {
        var world = RolloutWorld(options: testCase.options)
        world.deploy(RolloutWorld.v2)
        if let report = testCase.report { world.report("h1", RolloutWorld.v2, report.state, throttled: report.throttled) }
        if testCase.h1Down { world.down("h1") }
        let now = RolloutWorld.t0.addingTimeInterval(testCase.elapsed)
        if let healthyFor = testCase.healthyFor {
            world.cluster.rollouts["web"]?.healthySince["h1"] = now.addingTimeInterval(-healthyFor)
        }
        let wrote = world.tick(at: now)
        #expect((wrote != nil) == testCase.writes)
        let status = world.rollout!
        #expect(status.state == testCase.state)
        #expect(status.batch == testCase.batch)
        #expect(world.versions("h1") == testCase.h1)
        #expect(world.versions("h2") == testCase.h2)
        #expect(world.versions("h3") == ["1"])
        if let text = testCase.errorContains { #expect(status.error?.contains(text) == true, "\(status.error ?? "no error")") }
        if status.state == .rolledBack {
            #expect(world.cluster.config.deployments["web"]?.jobID == RolloutWorld.v1.id)
            #expect(status.endedAt == now)
        }
        if testCase.h1Down { #expect(status.skipped == ["h1"]) }
        if testCase.options.minHealthy > 0 && status.batch == 0 && testCase.writes {
            #expect(status.healthySince["h1"] == now)
        }
    }
}

// MARK: Whole rollouts

struct RolloutLifecycleTests {
    let v1 = RolloutWorld.v1, v2 = RolloutWorld.v2, v3 = RolloutWorld.v3, t0 = RolloutWorld.t0

    @Test func aRolloutRunsToTheEndAndRemovesTheOldJobLast() {
        var world = RolloutWorld()
        world.deploy(v2)
        for (batch, host) in ["h1", "h2", "h3"].enumerated() {
            #expect(world.rollout?.batch == batch)
            #expect(world.jobVersions == ["1", "2"])
            world.report(host, v2, .running)
            world.tick(at: t0.addingTimeInterval(Double(batch + 1)))
        }
        #expect(world.rollout?.state == .done)
        #expect(world.rollout?.endedAt == t0.addingTimeInterval(3))
        #expect(world.jobVersions == ["2"])
        #expect(["h1", "h2", "h3"].map(world.versions) == [["2"], ["2"], ["2"]])
        #expect(world.tick(at: t0.addingTimeInterval(10)) == nil, "an ended rollout writes nothing")
    }

    @Test func aDownHostIsSkippedTheRestFinishesAndItConvergesWhenUp() {
        var world = RolloutWorld(options: RolloutOptions(timeout: 60_000))
        world.down("h2")
        world.deploy(v2)
        world.settle(at: t0.addingTimeInterval(5))
        #expect(world.rollout?.state == .done)
        #expect(world.rollout?.skipped == ["h2"])
        #expect(world.cluster.config.deployments["web"]?.jobID == v2.id, "not rolled back")
        #expect(world.versions("h2") == ["2"], "its task is written: its agent converges once UP")
        #expect(world.jobVersions == ["2"])
    }

    @Test func aHostGoingDownMidRolloutIsSkipped() {
        var world = RolloutWorld()
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        world.down("h2")
        world.tick(at: t0.addingTimeInterval(2))
        #expect(world.rollout?.batch == 2)
        #expect(world.rollout?.skipped == ["h2"])
        world.report("h3", v2, .running)
        world.tick(at: t0.addingTimeInterval(3))
        #expect(world.rollout?.state == .done)
    }

    @Test func aRollbackReturnsEveryHostItReachedSkippedOnesToo() {
        var world = RolloutWorld(options: RolloutOptions(parallelism: 1))
        world.down("h1")
        world.deploy(v2)
        world.report("h2", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        world.report("h3", v2, .failed)
        world.tick(at: t0.addingTimeInterval(2))
        #expect(world.rollout?.state == .rolledBack)
        #expect(["h1", "h2", "h3"].map(world.versions) == [["1"], ["1"], ["1"]])
        #expect(world.cluster.config.deployments["web"]?.jobID == v1.id)
        #expect(world.jobVersions == ["1", "2"], "git still declares v2; it stays until a commit says otherwise")
    }

    @Test func stoppingTheDeploymentMidRolloutClosesTheRollout() {
        var world = RolloutWorld()
        world.deploy(v2)
        let plan = world.deploy(v2) { $0.goal = .stop }
        #expect(plan.rollouts.map(\.state) == [.superseded])
        #expect(world.rollout?.state == .superseded)
        #expect(world.rollout?.error == "superseded: the deployment was stopped")
        #expect(world.tick(at: t0.addingTimeInterval(1)) == nil)
    }

    @Test func aJobThatMatchesNoHostClosesTheRolloutItSupersedes() {
        var world = RolloutWorld()
        world.deploy(v2)
        let plan = world.deploy(v3) { $0.hosts = [] }
        #expect(plan.rollouts.map(\.state) == [.superseded])
        #expect(world.rollout?.error?.contains("now runs \(v3.id)") == true)
    }

    @Test func aRolloutWhoseDeploymentChangedUnderneathIsClosedAtTheNextLook() {
        var world = RolloutWorld()
        world.deploy(v2)
        world.cluster.config.deployments["web"]?.jobID = v3.id // written by a plan that staged no rollout
        let plan = world.tick(at: t0.addingTimeInterval(1))
        #expect(plan?.rollouts.first?.state == .superseded)
        world.cluster.rollouts["web"]?.state = .rollingOut
        world.cluster.config.deployments["web"] = nil
        #expect(world.tick(at: t0.addingTimeInterval(2))?.rollouts.first?.error == "the deployment was removed")
    }

    @Test func aNewerJobMidRolloutStartsAFreshRolloutFromWhereHostsAre() {
        var world = RolloutWorld()
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1)) // h2 now on v2 too, h3 still v1
        let plan = world.deploy(v3, at: t0.addingTimeInterval(2))
        let status = plan.rollouts.first
        #expect(status?.jobID == v3.id)
        #expect(status?.previousJobID == v2.id)
        #expect(status?.batches == [["h1"], ["h2"], ["h3"]])
        #expect(Set(status?.retiring ?? []) == [v1.id, v2.id])
        world.settle(at: t0.addingTimeInterval(3))
        #expect(world.jobVersions == ["3"])
    }

    @Test func changingOnlyHowItRollsKeepsTheRolloutGoing() {
        var world = RolloutWorld()
        world.deploy(v2)
        let plan = world.deploy(v2) { $0.rollout.timeout = 600_000 }
        #expect(plan.rollouts.isEmpty)
        #expect(world.rollout?.state == .rollingOut)
    }

    @Test func addingAHostMidRolloutKeepsWhatARollbackReturnsTo() {
        var world = RolloutWorld(hosts: ["h1", "h2", "h3", "h4"])
        world.deploy(v2) { $0.hosts = ["h1", "h2", "h3"] }
        world.settle(at: t0) // v2 everywhere
        world.deploy(v3)
        let plan = world.deploy(v3) { $0.hosts = ["h1", "h2", "h3", "h4"] }
        #expect(plan.rollouts.isEmpty, "the rollout under way carries on")
        #expect(plan.tasks.isEmpty && plan.pending.isEmpty, "no batch is written past the rollout's health gate")
        #expect(world.rollout?.previousJobID == v2.id)
        world.report("h1", v3, .running)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.rollout?.batches == [["h1"], ["h2"], ["h3"], ["h4"]])
        world.settle(at: t0.addingTimeInterval(2))
        #expect(world.versions("h4") == ["3"])
    }

    @Test func anUnrelatedCommitDuringARolloutWritesNoBatchOfIt() {
        var world = RolloutWorld()
        world.deploy(v2)
        var desired = DesiredState(jobs: [v2.id: v2, v3.id: v3], deployments: ["web": world.deployment])
        desired.deployments["api"] = Deployment(name: "api", jobID: v3.id, hosts: ["h1"])
        let plan = Planner.plan(desired: desired, actual: world.cluster, base: PlanBase(kind: .cluster), target: "t", now: t0)
        #expect(plan.rollouts.map(\.deployment) == ["api"])
        #expect(!plan.tasks.contains { if case .deploy(_, let task) = $0 { task.deployment == "web" } else { false } })
        #expect(!plan.changes.contains { if case .removeJob = $0 { true } else { false } }, "v1 still runs on h2 and h3")
    }

    @Test func hostsJoiningTheSelectorMidRolloutGetALaterBatch() {
        let labels = ["h1": ["role": "web"], "h2": ["role": "web"], "h3": ["role": "db"]]
        var world = RolloutWorld(selector: ["role=web"], labels: labels)
        world.deploy(v2)
        #expect(world.rollout?.batches == [["h1"], ["h2"]])
        world.cluster.hosts["h3"]?.labels = ["role": "web"]
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.rollout?.batches == [["h1"], ["h2"], ["h3"]])
        world.settle(at: t0.addingTimeInterval(2))
        #expect(world.versions("h3") == ["2"])
        #expect(world.rollout?.state == .done)
    }

    @Test func hostsLeavingTheSelectorMidRolloutLoseTheTaskAtOnce() {
        let labels = ["h1": ["role": "web"], "h2": ["role": "web"], "h3": ["role": "web"]]
        var world = RolloutWorld(selector: ["role=web"], labels: labels)
        world.deploy(v2)
        world.cluster.hosts["h3"]?.labels = [:]
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.versions("h3").isEmpty)
        #expect(world.rollout?.batches == [["h1"], ["h2"]])
        world.settle(at: t0.addingTimeInterval(2))
        #expect(world.rollout?.state == .done)
        #expect(world.jobVersions == ["2"])
    }

    @Test func aNewLeaderCarriesOnWithMinHealthyFromTheStatus() {
        var world = RolloutWorld(options: RolloutOptions(minHealthy: 10_000))
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1)) // seen healthy at t0+1: written into the status
        // Another master, with nothing in memory, looks at the same cluster later.
        var other = world
        #expect(other.tick(at: t0.addingTimeInterval(5)) == nil)
        other.tick(at: t0.addingTimeInterval(11))
        #expect(other.rollout?.batch == 1)
    }

    @Test func aHostThatStopsBeingHealthyStartsItsMinHealthyAgain() {
        var world = RolloutWorld(options: RolloutOptions(minHealthy: 10_000))
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        world.report("h1", v2, .exited)
        world.tick(at: t0.addingTimeInterval(2))
        #expect(world.rollout?.healthySince["h1"] == nil)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(3))
        #expect(world.tick(at: t0.addingTimeInterval(12)) == nil)
        world.tick(at: t0.addingTimeInterval(13))
        #expect(world.rollout?.batch == 1)
    }

    @Test func advancingIsDeterministic() {
        var world = RolloutWorld(options: RolloutOptions(parallelism: 2, overlap: true))
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.report("h2", v2, .running)
        let now = t0.addingTimeInterval(4)
        #expect(Rollouts.advance(world.rollout!, in: world.cluster, now: now)
                == Rollouts.advance(world.rollout!, in: world.cluster, now: now))
    }

    @Test func rolloutsOfSeveralDeploymentsCombineIntoOneWrite() {
        var world = RolloutWorld()
        world.deploy(v2)
        var api = world.cluster.rollouts["web"]!
        api.deployment = "api"
        let plans = [api, world.rollout!].compactMap { status -> Plan? in
            var cluster = world.cluster
            cluster.config.deployments["api"] = world.cluster.config.deployments["web"].map { var d = $0; d.name = "api"; return d }
            return Rollouts.advance(status, in: cluster, now: t0.addingTimeInterval(400))
        }
        let combined = Rollouts.combine(plans, in: world.cluster)
        #expect(combined.rollouts.count == 2)
        #expect(combined.base.checkIndex == world.cluster.checkIndex)
    }

    @Test func aJobIsRemovedNowOnlyWhenNoTaskOfItStays() {
        // One host, overlap: the old task stays until the new one runs, so its job must too.
        var cluster = ClusterState(hosts: ["h1": HostState(up: true)], checkIndex: 1)
        var deployment = Deployment(name: "web", jobID: v1.id, hosts: ["h1"])
        deployment.rollout.overlap = true
        for (job, previous) in [(v1, nil), (v2, v1), (v3, v2)] as [(Job, Job?)] {
            deployment.jobID = job.id
            let plan = Planner.plan(desired: DesiredState(jobs: [job.id: job], deployments: ["web": deployment]), actual: cluster,
                                    base: PlanBase(kind: .cluster), target: "t", now: t0)
            let after = cluster.applying(plan)
            for case .removeJob(let id, afterRollout: false) in plan.changes {
                #expect(!after.config.tasks.values.contains { $0[id] != nil }, "\(id.nameAndVersion) removed while a task of it stays")
            }
            if let previous { #expect(after.config.tasks["h1"]?[previous.id] != nil, "the old task stays until the new one runs") }
            cluster = after
        }
    }

    @Test func aRolloutOfOneBatchThatFailsRollsBackToTheJobBefore() {
        var world = RolloutWorld(hosts: ["h1"])
        world.deploy(v2)
        #expect(world.cluster.config.jobs[v1.id] != nil, "the job before is kept for a rollback")
        world.report("h1", v2, .failed)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.rollout?.state == .rolledBack)
        #expect(world.cluster.config.tasks["h1"]?.keys.map(\.self) == [v1.id])
    }

    /// The drift check plans the whole cluster against git while a rollout runs: git no longer
    /// declares the job before, and once the first batch moved no task runs it, yet a rollback
    /// still returns to it.
    @Test func aFullPlanMidRolloutKeepsTheJobARollbackReturnsTo() {
        for hosts in [["h1"], ["h1", "h2"]] {
            var world = RolloutWorld(hosts: hosts)
            world.deploy(v2)
            if hosts.count > 1 { // the second batch: no task of v1 stays
                world.report("h1", v2, .running)
                world.tick(at: t0.addingTimeInterval(1))
            }
            #expect(world.rollout?.state == .rollingOut && hosts.map(world.versions) == hosts.map { _ in ["2"] })
            let desired = DesiredState(jobs: [v2.id: v2], deployments: ["web": world.deployment])
            let drift = Planner.plan(desired: desired, actual: world.cluster,
                                     base: PlanBase(kind: .cluster, checkIndex: world.cluster.checkIndex),
                                     target: "t", now: t0.addingTimeInterval(2))
            #expect(drift.isEmpty, "\(hosts.count) host(s): the cluster is as git and the rollout under way want it: \(drift.changes)")
            world.cluster = world.cluster.applying(drift)
            world.report(hosts.last!, v2, .failed)
            world.tick(at: t0.addingTimeInterval(3))
            #expect(world.rollout?.state == .rolledBack, "\(hosts.count) host(s)")
            #expect(hosts.map(world.versions) == hosts.map { _ in ["1"] })
        }
    }

    @Test func theJobBeforeDroppedFromGitMidRolloutGoesWhenTheRolloutIsDone() {
        var world = RolloutWorld(hosts: ["h1", "h2"])
        world.deployment.jobID = v2.id
        func plan(_ jobs: [Job], at seconds: TimeInterval) -> Plan {
            let desired = DesiredState(jobs: Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) }),
                                       deployments: ["web": world.deployment])
            return Planner.plan(desired: desired, actual: world.cluster, base: PlanBase(kind: .cluster),
                                target: "t", now: t0.addingTimeInterval(seconds))
        }
        world.cluster = world.cluster.applying(plan([v1, v2], at: 0)) // git still declares v1: it is not retired
        #expect(world.rollout?.retiring == [])
        let dropped = plan([v2], at: 1)
        #expect(dropped.changes == [.removeJob(v1.id, afterRollout: true)], "a rollback returns to v1: it stays")
        #expect(dropped.rollouts.map(\.retiring) == [[v1.id]], "the rollout removes it when done")
        world.cluster = world.cluster.applying(dropped)
        #expect(plan([v2], at: 2).isEmpty)
        world.settle(at: t0.addingTimeInterval(3))
        #expect(world.rollout?.state == .done)
        #expect(world.jobVersions == ["2"])
    }

    /// A commit planned on what changed, while a rollout whose every host moved is not closed
    /// yet: the job it retires goes with the one the commit drops, as a full plan has it.
    @Test func aCommitBeforeTheRolloutIsClosedPlansWhatItRetiresAsAFullPlanDoes() {
        var world = RolloutWorld(hosts: ["h1", "h2"])
        world.deploy(v2)
        world.report("h1", v2, .running)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.rollout?.retiring == [v1.id] && world.versions("h2") == ["2"], "every host moved, v1 kept to retire")
        let before = DesiredState(jobs: [v2.id: v2], deployments: ["web": world.deployment])
        var deployment = world.deployment
        deployment.jobID = v3.id
        let after = DesiredState(jobs: [v3.id: v3], deployments: ["web": deployment])
        let base = PlanBase(kind: .cluster, checkIndex: world.cluster.checkIndex)
        let now = t0.addingTimeInterval(2)
        let full = Planner.plan(desired: after, actual: world.cluster, base: base, target: "t", now: now)
        let narrowed = Planner.plan(desired: after, actual: world.cluster, change: DesiredChange(from: before, to: after),
                                    base: base, target: "t", now: now)
        #expect(full.changes.contains(.removeJob(v1.id, afterRollout: false)), "\(full.changes)")
        #expect(narrowed.changes == full.changes)
        #expect(narrowed.rollouts == full.rollouts)
    }

    @Test func anExpiredJobIsUndeployedAndRemovedWithItsDeployment() {
        var expiring = v1
        expiring.expires = t0.addingTimeInterval(20)
        var desired = DesiredState(jobs: [expiring.id: expiring],
                                   deployments: ["web": Deployment(name: "web", jobID: expiring.id, hosts: ["h1"])])
        desired.settings.maxPrune = .count(0) // an expiry is no prune: maxPrune does not hold it back
        var cluster = ClusterState(hosts: ["h1": HostState()], checkIndex: 1)
        func plan(at seconds: TimeInterval, _ desired: DesiredState) -> Plan {
            Planner.plan(desired: desired, actual: cluster, base: PlanBase(kind: .cluster), target: "t",
                         now: t0.addingTimeInterval(seconds))
        }
        cluster = cluster.applying(plan(at: 0, desired))
        #expect(cluster.config.tasks["h1"]?.keys.map(\.self) == [expiring.id])
        #expect(plan(at: 19, desired).isEmpty)
        let after = plan(at: 20, desired)
        #expect(after.errors.isEmpty)
        #expect(after.warnings.contains { $0.contains("expired") && $0.contains("undeployed and removed") })
        let cleared = cluster.applying(after)
        #expect(cleared.config.deployments.isEmpty && cleared.config.jobs.isEmpty && cleared.config.tasks.isEmpty)
        // The cluster's own declaration (a CLI-driven cluster, or selfHeal off) expires it as well.
        let own = plan(at: 20, Planner.declaration(of: cluster))
        #expect(cluster.applying(own).config.jobs.isEmpty)
    }

    @Test func aFailedRolloutIsHeldUntilTheDeploymentChanges() {
        var world = RolloutWorld()
        world.deploy(v2)
        world.report("h1", v2, .failed)
        world.tick(at: t0.addingTimeInterval(1))
        #expect(world.rollout?.state == .rolledBack)
        let declared = DesiredState(jobs: [v2.id: v2], deployments: ["web": world.deployment])
        #expect(Planner.heldByFailedRollouts(desired: declared, actual: world.cluster) == ["web"])
        let (desired, actual) = Planner.holding(["web"], desired: declared, actual: world.cluster)
        let plan = Planner.plan(desired: desired, actual: actual, base: PlanBase(kind: .cluster), target: "t", now: t0)
        #expect(plan.isEmpty, "the known-bad job is not rolled out again")
        var changed = world.deployment
        changed.rollout.timeout = 1_000
        #expect(Planner.heldByFailedRollouts(desired: DesiredState(jobs: [v2.id: v2], deployments: ["web": changed]),
                                             actual: world.cluster).isEmpty)
        #expect(Planner.heldByFailedRollouts(desired: DesiredState(jobs: [v3.id: v3], deployments: [
            "web": Deployment(name: "web", jobID: v3.id, hosts: world.deployment.hosts)]), actual: world.cluster).isEmpty)
    }

    @Test func theSyncRecordFollowsTheRolloutsOfItsRevision() {
        var world = RolloutWorld()
        world.deploy(v2, revision: "r2")
        let record = SyncRecord(repo: "r", branch: "main", lastAppliedRevision: "r2", lastAttemptedRevision: "r2",
                                status: .synced, reason: .applied, appliedAt: nil, summary: "applied")
        #expect(record.settled(by: world.cluster.rollouts).status == .progressing)
        world.report("h1", v2, .failed)
        world.tick(at: t0.addingTimeInterval(1))
        let failed = record.settled(by: world.cluster.rollouts)
        #expect(failed.status == .failed && failed.reason == .rolloutFailed)
        #expect(failed.summary.contains("host h1: FAILED"))
        var other = record
        other.lastAppliedRevision = "r3"
        #expect(other.settled(by: world.cluster.rollouts).status == .synced, "another revision's rollout does not count")
        var refused = record
        refused.status = .failed
        refused.reason = .invalidManifests
        #expect(refused.settled(by: world.cluster.rollouts) == refused)
    }
}
