import Foundation
import HeliosModel
import HeliosPlanner
@testable import HeliosStore
import HeliosTestSupport
import Testing
import ZooKeeper

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct HeliosStoreTests {
    let web1 = Job(name: "web", version: "1", image: "busybox", command: ["httpd"])
    let web2 = Job(name: "web", version: "2", image: "busybox", command: ["httpd"])

    func connect(_ chroot: String = TestServices.uniqueChroot("store")) async throws -> HeliosStore {
        try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
    }

    func desired(_ job: Job, hosts: [String]) -> DesiredState {
        DesiredState(jobs: [job.id: job], deployments: ["web": Deployment(name: "web", jobID: job.id, hosts: hosts)])
    }

    @Test func anAppliedPlanReadsBackAsTheDesiredConfiguration() async throws {
        let store = try await connect()
        var nothing = DesiredState()
        nothing.settings.maxPrune = .percent(100)
        for target in [desired(web1, hosts: ["a", "b"]), desired(web2, hosts: ["b", "c"]), nothing] {
            let snapshot = try await store.readCluster()
            let plan = Planner.plan(desired: target, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "test", now: Date())
            let newIndex = try await store.apply(plan, to: snapshot)
            #expect(newIndex == snapshot.checkIndex + 1)

            let after = try await store.readCluster()
            #expect(after.config.jobs == target.jobs)
            #expect(after.config.deployments == target.deployments)
            #expect(Planner.plan(desired: target, actual: after.state, base: PlanBase(kind: .cluster), target: "test", now: Date()).isEmpty)
        }
        // Nothing is left behind once everything is removed: no stray job or host markers.
        #expect(try await store.session.children(Paths.jobs).isEmpty)
        #expect(try await store.session.children(Paths.hostTasks("b")).isEmpty)
        await store.close()
    }

    @Test func aStalePlanIsRefusedAndWritesNothing() async throws {
        let chroot = TestServices.uniqueChroot("store")
        let first = try await connect(chroot)
        let second = try await connect(chroot)
        let snapshotA = try await first.readCluster()
        let snapshotB = try await second.readCluster()

        try await first.apply(Planner.plan(desired: desired(web1, hosts: ["a"]), actual: snapshotA.state,
                                           base: PlanBase(kind: .cluster), target: "a", now: Date()), to: snapshotA)
        let error = await #expect(throws: HeliosStoreError.self) {
            try await second.apply(Planner.plan(desired: desired(web2, hosts: ["z"]), actual: snapshotB.state,
                                                base: PlanBase(kind: .cluster), target: "b", now: Date()), to: snapshotB)
        }
        #expect(error?.description.contains("re-read") == true)

        let after = try await second.readCluster()
        #expect(after.config.jobs.keys.sorted() == [web1.id])
        #expect(after.config.tasks.keys.sorted() == ["a"])
        await first.close()
        await second.close()
    }

    @Test func aNodeTooLargeForZooKeeperIsRefusedWholeBeforeAnythingIsSent() async throws {
        let store = try await connect()
        var huge = web1
        huge.env = ["BLOB": String(repeating: "x", count: 600_000)] // one job node over the budget
        var wanted = DesiredState(jobs: [huge.id: huge, web2.id: web2])
        wanted.deployments["web"] = Deployment(name: "web", jobID: web2.id, hosts: ["a"])
        let snapshot = try await store.readCluster()
        let plan = Planner.plan(desired: wanted, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "t", now: Date())
        await #expect {
            try await store.apply(plan, to: snapshot)
        } throws: { error in
            guard case HeliosStoreError.refused(let reasons) = error else { return false }
            return reasons.count == 1 && reasons[0].contains("/config/jobs/\(huge.id)")
        }
        let after = try await store.readCluster()
        #expect(after.checkIndex == snapshot.checkIndex && after.config.jobs.isEmpty && after.config.deployments.isEmpty)
        // The session survived (ZooKeeper would have closed it for an oversized request).
        try await store.apply(Planner.plan(desired: desired(web2, hosts: ["a"]), actual: after.state, base: PlanBase(kind: .cluster),
                                           target: "t", now: Date()), to: after)
        #expect(try await store.readCluster().config.jobs.keys.map(\.self) == [web2.id])
        await store.close()
    }

    @Test func aSyncRecordOfAHugePlanFitsInItsNode() async throws {
        let store = try await connect()
        var record = SyncRecord(repo: "r", branch: "main", lastAppliedRevision: "a", lastAttemptedRevision: "a", status: .synced,
                                reason: .applied, appliedAt: nil, summary: "applied",
                                diagnostics: (0..<50_000).map { "deployment 'service-\($0)': hosts host-1, host-2 are DOWN; …" })
        record.changes = (0..<20_000).map { PlanOutline.Entry(action: "undeploy", subject: "web:1:abc", host: "host-\($0)") }
        try await store.writeSyncRecord(record, over: -1)
        let read = try #require(try await store.syncRecord())
        #expect(read.diagnostics.count == SyncRecord.listLimit + 2)
        #expect(read.diagnostics.suffix(2) == ["… and 49900 more", "… and 19900 more changes"])
        #expect(read.changes.count == SyncRecord.listLimit)
        await store.close()
    }

    @Test func aHostIsUpWhileItsAgentSessionLives() async throws {
        let chroot = TestServices.uniqueChroot("store")
        let agent = try await connect(chroot)
        let observer = try await connect(chroot)
        try await agent.registerHost("a", agentID: "agent-a", info: HostInfo(hostname: "a.local", agentVersion: "test", dockerAPIVersion: "1.41"))
        #expect(try await observer.isUp("a"))

        let status = TaskStatus(jobID: web1.id, goal: .start, state: .running, containerID: "abc")
        try await agent.setTaskStatus(status, host: "a")
        try await agent.setTaskStatus(TaskStatus(jobID: web1.id, goal: .start, state: .exited, containerID: "abc"), host: "a")
        #expect(try await observer.taskStatuses(host: "a")[web1.id]?.state == .exited)

        await agent.close()
        #expect(try await observer.isUp("a") == false)
        // Statuses are persistent: they outlive the agent's session.
        #expect(try await observer.taskStatuses(host: "a")[web1.id]?.containerID == "abc")
        try await observer.removeTaskStatus(web1.id, host: "a")
        #expect(try await observer.taskStatuses(host: "a").isEmpty)
        await observer.close()
    }

    /// What `make bench` breaks a deployment down by: when the task was written and reported,
    /// to the millisecond, in the order it happened.
    @Test func aTasksStepsAreTimedInTheOrderTheyHappened() async throws {
        let store = try await connect()
        #expect(try await store.taskTimes(web1.id, host: "a") == nil)
        let snapshot = try await store.readCluster()
        try await store.apply(Planner.plan(desired: desired(web1, hosts: ["a"]), actual: snapshot.state,
                                           base: PlanBase(kind: .cluster), target: "test", now: Date()), to: snapshot)
        let written = try #require(try await store.taskTimes(web1.id, host: "a"))
        #expect(written.firstReported == nil && written.lastReported == nil)
        try await store.registerHost("a", agentID: "agent-a", info: HostInfo(hostname: "a", agentVersion: "test", dockerAPIVersion: nil))
        try await store.setTaskStatus(TaskStatus(jobID: web1.id, goal: .start, state: .creating), host: "a")
        try await Task.sleep(for: .milliseconds(20))
        try await store.setTaskStatus(TaskStatus(jobID: web1.id, goal: .start, state: .running), host: "a")
        let times = try #require(try await store.taskTimes(web1.id, host: "a"))
        #expect(times.assigned == written.assigned)
        let first = try #require(times.firstReported), last = try #require(times.lastReported)
        #expect(times.assigned <= first && first < last, "\(times)")
        await store.close()
    }

    @Test func reRegisteringReplacesAnUpNodeLeftByAnEarlierSession() async throws {
        let chroot = TestServices.uniqueChroot("store")
        let old = try await connect(chroot)
        let info = HostInfo(hostname: "a.local", agentVersion: "test", dockerAPIVersion: nil)
        try await old.registerHost("a", agentID: "agent-a", info: info)
        let new = try await connect(chroot)
        try await new.registerHost("a", agentID: "agent-a", info: info)
        #expect(try await new.session.exists(Paths.hostUp("a"))?.ephemeralOwner == new.session.sessionID)
        await old.close()
        await new.close()
    }

    @Test func anotherAgentUnderTheSameNameIsRefusedWhileTheFirstLives() async throws {
        let chroot = TestServices.uniqueChroot("store")
        let first = try await connect(chroot)
        let info = HostInfo(hostname: "a.local", agentVersion: "test", dockerAPIVersion: nil)
        try await first.registerHost("a", agentID: "agent-1", info: info)
        let second = try await connect(chroot)
        let refusal = await #expect(throws: HeliosStoreError.self) {
            try await second.registerHost("a", agentID: "agent-2", info: info)
        }
        #expect(refusal?.description.contains("agent-1") == true)
        #expect(try await second.session.exists(Paths.hostUp("a"))?.ephemeralOwner == first.session.sessionID)
        // Once the first agent's session is gone, the name is free.
        await first.close()
        try await second.registerHost("a", agentID: "agent-2", info: info)
        #expect(try await second.session.get(Paths.hostUp("a")).data == Data("agent-2".utf8))
        await second.close()
    }

    @Test func theSyncRecordRoundTripsAndRefusesAWriterThatReadAnOlderOne() async throws {
        let store = try await connect()
        #expect(try await store.syncRecord() == nil)
        let record = SyncRecord(repo: "file:///r.git", branch: "main", lastAppliedRevision: nil, lastAttemptedRevision: "abc",
                                status: .failed, reason: .invalidManifests, appliedAt: nil, summary: "1 error",
                                diagnostics: ["a.yaml:1:1: error: x"])
        try await store.writeSyncRecord(record, over: -1)
        #expect(try await store.syncRecord() == record)
        // Two writers read the same version; the second to write loses and must read again.
        let (_, version) = try await store.versionedSyncRecord()
        var first = record, second = record
        first.summary = "first"
        second.summary = "second"
        try await store.writeSyncRecord(first, over: version)
        await #expect(throws: HeliosStoreError.self) { try await store.writeSyncRecord(second, over: version) }
        await #expect(throws: HeliosStoreError.self) { try await store.writeSyncRecord(second, over: -1) }
        #expect(try await store.syncRecord()?.summary == "first")
        // A plan applied with a record it read at an older version writes neither.
        let snapshot = try await store.readCluster()
        #expect(snapshot.syncRecordVersion == version + 1)
        try await store.writeSyncRecord(second, over: snapshot.syncRecordVersion)
        let job = Job(name: "web", version: "1", image: "web:1")
        let plan = Planner.plan(desired: DesiredState(jobs: [job.id: job]), actual: snapshot.state,
                                base: PlanBase(kind: .cluster), target: "t", now: Date())
        await #expect(throws: HeliosStoreError.self) { try await store.apply(plan, to: snapshot, record: first) }
        let after = try await store.readCluster()
        #expect(after.config.jobs.isEmpty)
        #expect(after.syncRecord?.summary == "second")
        await store.close()
    }
}

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct HistoryTests {
    @Test func aRemovedJobsHistoryGoesWithItAndZooKeeperStaysFlatOverManyBumps() async throws {
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("history-bumps"))
        var counts: [Int] = []
        for version in 1...1000 {
            let job = Job(name: "web", version: "\(version)", image: "busybox")
            let desired = DesiredState(jobs: [job.id: job], deployments: ["web": Deployment(name: "web", jobID: job.id, hosts: ["a"])])
            // The plan removes the job before, and its history goes with it.
            let snapshot = try await store.readCluster()
            try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                               target: "v\(version)", now: Date()), to: snapshot)
            // The agent reports the new task, and (late) the old one stopping.
            try await store.appendTaskHistory(TaskStatus(jobID: job.id, goal: .start, state: .running), host: "a")
            if version > 1 {
                let before = Job(name: "web", version: "\(version - 1)", image: "busybox")
                try await store.appendTaskHistory(TaskStatus(jobID: before.id, goal: .undeploy, state: .stopped), host: "a")
            }
            if version % 100 == 0 { counts.append(try await store.children(Paths.historyJobs).count) }
        }
        #expect(counts.allSatisfy { $0 <= 2 }, "job histories kept: \(counts)")
        #expect(try await store.taskHistory(Job(name: "web", version: "1000", image: "busybox").id, host: "a").count == 1)
        await store.close()
    }

    @Test func aTaskKeepsItsNewest30StatusesInOrder() async throws {
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("history"))
        let id = Job(name: "web", version: "1", image: "busybox").id
        let states: [TaskStatus.State] = [.creating, .starting, .running, .exited]
        for index in 0..<35 {
            try await store.appendTaskHistory(TaskStatus(jobID: id, goal: .start, state: states[index % 4],
                                                         containerID: "c\(index)"), host: "a")
        }
        let history = try await store.taskHistory(id, host: "a")
        #expect(history.count == HeliosStore.taskHistoryLimit)
        #expect(history.first?.containerID == "c5")
        #expect(history.last?.containerID == "c34")
        #expect(try await store.taskHistory(id, host: "other").isEmpty)
        await store.close()
    }

    @Test func theClusterKeepsItsNewest20AppliedRevisions() async throws {
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("history"))
        for index in 0..<23 {
            try await store.appendAppliedRevision(AppliedRevision(revision: "r\(index)", appliedAt: "t\(index)", summary: "s"))
        }
        let revisions = try await store.appliedRevisions()
        #expect(revisions.map(\.revision) == (3..<23).map { "r\($0)" })
        await store.close()
    }

    /// A revision keeps the plan it applied, secrets masked, unless the plan is too large to keep.
    @Test func anAppliedRevisionKeepsItsPlanMaskedOrSaysItWasTooLarge() async throws {
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("revision-plan"))
        var job = Job(name: "api", version: "1", image: "busybox")
        job.env = ["DB_PASSWORD": "hunter2", "LOG_LEVEL": "info"]
        let small = Planner.plan(desired: DesiredState(jobs: [job.id: job], deployments: ["api": Deployment(name: "api", jobID: job.id, hosts: ["a"])]),
                                 actual: ClusterState(), base: PlanBase(kind: .empty), target: "r1", now: Date())
        try await store.appendAppliedRevision(AppliedRevision(revision: "r1", appliedAt: "t1", summary: "s", plan: small))
        var large = DesiredState()
        for index in 0..<3_000 {
            let job = Job(name: "service-\(index)", version: "1", image: "registry.example.com/team/service-\(index):1")
            large.jobs[job.id] = job
            large.deployments["service-\(index)"] = Deployment(name: "service-\(index)", jobID: job.id, hosts: ["a"])
        }
        let big = Planner.plan(desired: large, actual: ClusterState(), base: PlanBase(kind: .empty), target: "r2", now: Date())
        try await store.appendAppliedRevision(AppliedRevision(revision: "r2", appliedAt: "t2", summary: "s", plan: big))

        let revisions = try await store.appliedRevisions()
        #expect(revisions[0].plan == small.masked())
        #expect(revisions[0].plan?.changes.count == small.changes.count)
        if case .createJob(let kept, _)? = revisions[0].plan?.changes.first {
            #expect(kept.env?["DB_PASSWORD"] == Secrets.mask && kept.env?["LOG_LEVEL"] == "info")
        } else {
            Issue.record("no job in the kept plan")
        }
        #expect(revisions[1].plan == nil && revisions[1].planOmitted == true)
        await store.close()
    }
}
