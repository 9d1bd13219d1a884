import Foundation
@testable import HeliosMaster
import HeliosModel
import HeliosPlanner
import HeliosStore
import HeliosTestSupport
import Logging
import Testing

/// The rollout controller against a real ZooKeeper, with the agents' reports written by hand.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct RolloutControllerTests {
    let v1 = Job(name: "web", version: "1", image: "web:1")
    let v2 = Job(name: "web", version: "2", image: "web:2")

    /// A cluster running `v1` on h1 and h2, then `v2` planned and staged as the master does.
    func cluster(_ configure: (inout RolloutOptions) -> Void) async throws -> (HeliosStore, RolloutController) {
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("rollout"))
        for host in ["h1", "h2"] {
            try await store.registerHost(host, agentID: host, info: HostInfo(hostname: host, agentVersion: "test", dockerAPIVersion: nil))
        }
        var deployment = Deployment(name: "web", jobID: v1.id, hosts: ["h1", "h2"])
        configure(&deployment.rollout)
        var desired = DesiredState(jobs: [v1.id: v1], deployments: ["web": deployment])
        var snapshot = try await store.readCluster()
        try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "v1", now: Date()),
                              to: snapshot)
        // v1 rolls out host by host as the agents report it running.
        let controller = RolloutController(store: store, logger: Logger(label: "test"))
        for host in ["h1", "h2"] {
            try await store.setTaskStatus(TaskStatus(jobID: v1.id, goal: .start, state: .running), host: host)
            try await controller.step(now: Date())
        }
        #expect(try await store.readCluster().rollouts["web"]?.state == .done)
        deployment.jobID = v2.id
        desired = DesiredState(jobs: [v2.id: v2], deployments: ["web": deployment])
        snapshot = try await store.readCluster()
        let plan = Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "v2", now: Date())
        try await store.apply(plan, to: snapshot)
        return (store, controller)
    }

    func jobs(on host: String, _ store: HeliosStore) async throws -> [String] {
        try await store.tasks(of: host).keys.map(\.version).sorted()
    }

    func report(_ state: TaskStatus.State, _ job: Job, on host: String, _ store: HeliosStore,
                throttled: TaskStatus.Throttle? = nil) async throws {
        try await store.setTaskStatus(TaskStatus(jobID: job.id, goal: .start, state: state, throttled: throttled), host: host)
    }

    @Test func anOverlappingRolloutKeepsEachOldTaskUntilTheNewOneRuns() async throws {
        let (store, controller) = try await cluster { $0.overlap = true }
        #expect(try await jobs(on: "h1", store) == ["1", "2"])
        #expect(try await jobs(on: "h2", store) == ["1"])

        try await controller.step(now: Date()) // nothing reported yet: nothing moves
        #expect(try await store.readCluster().rollouts["web"]?.batch == 0)
        try await report(.running, v2, on: "h1", store)
        try await controller.step(now: Date())
        #expect(try await jobs(on: "h1", store) == ["2"])
        #expect(try await jobs(on: "h2", store) == ["1", "2"])
        #expect(try await store.readCluster().rollouts["web"]?.batch == 1)

        try await report(.running, v2, on: "h2", store)
        try await controller.step(now: Date())
        let done = try await store.readCluster()
        #expect(done.rollouts["web"]?.state == .done)
        #expect(try await jobs(on: "h2", store) == ["2"])
        #expect(done.config.jobs.keys.map(\.version) == ["2"], "the job before outlived its rollout")
        await store.close()
    }

    @Test func aCommitWhileAnOverlappingRolloutStillKeepsTheOldTaskAppliesAndRetiresBothOldJobs() async throws {
        let (store, controller) = try await cluster { $0.overlap = true }
        #expect(try await jobs(on: "h1", store) == ["1", "2"])
        try await report(.running, v2, on: "h1", store)
        // v3 is committed before the leader moved the rollout on: h1 runs v1 (kept) and v2.
        let v3 = Job(name: "web", version: "3", image: "web:3")
        var deployment = try #require(try await store.readCluster().config.deployments["web"])
        deployment.jobID = v3.id
        let snapshot = try await store.readCluster()
        let plan = Planner.plan(desired: DesiredState(jobs: [v3.id: v3], deployments: ["web": deployment]), actual: snapshot.state,
                                base: PlanBase(kind: .cluster), target: "v3", now: Date())
        try await store.apply(plan, to: snapshot)
        for host in ["h1", "h2"] {
            try await report(.running, v3, on: host, store)
            try await controller.step(now: Date())
        }
        let done = try await store.readCluster()
        #expect(done.rollouts["web"]?.state == .done)
        #expect(try await jobs(on: "h1", store) == ["3"])
        #expect(try await jobs(on: "h2", store) == ["3"])
        #expect(done.config.jobs.keys.map(\.version) == ["3"], "jobs left: \(done.config.jobs.keys.map(\.version).sorted())")
        await store.close()
    }

    @Test func aFlappingHostFailsTheBatchAndTheDeploymentGoesBack() async throws {
        let (store, controller) = try await cluster { _ in }
        #expect(try await jobs(on: "h1", store) == ["2"])
        try await report(.exited, v2, on: "h1", store, throttled: .flapping)
        try await controller.step(now: Date())
        let snapshot = try await store.readCluster()
        let rollout = try #require(snapshot.rollouts["web"])
        #expect(rollout.state == .rolledBack)
        #expect(rollout.error?.contains("host h1: EXITED FLAPPING") == true, "\(String(describing: rollout.error))")
        #expect(snapshot.config.deployments["web"]?.jobID == v1.id)
        #expect(try await jobs(on: "h1", store) == ["1"])
        #expect(try await jobs(on: "h2", store) == ["1"]) // never reached
        await store.close()
    }

    @Test func aBatchNotHealthyWithinItsTimeoutFails() async throws {
        let (store, controller) = try await cluster {
            $0.timeout = 30_000
            $0.autoRollback = false
        }
        try await report(.healthChecking, v2, on: "h1", store)
        try await controller.step(now: Date())
        #expect(try await store.readCluster().rollouts["web"]?.state == .rollingOut)
        try await controller.step(now: Date().addingTimeInterval(31))
        let rollout = try #require(try await store.readCluster().rollouts["web"])
        #expect(rollout.state == .failed)
        #expect(rollout.error?.contains("h1 (HEALTHCHECKING)") == true, "\(String(describing: rollout.error))")
        #expect(try await jobs(on: "h1", store) == ["2"]) // no rollback asked for: it stays where it stopped
        await store.close()
    }

    @Test func ignoreFailuresMovesOnPastAFailedHost() async throws {
        let (store, controller) = try await cluster { $0.ignoreFailures = true }
        try await report(.failed, v2, on: "h1", store, throttled: .imagePullFailed)
        try await controller.step(now: Date())
        #expect(try await store.readCluster().rollouts["web"]?.batch == 1)
        #expect(try await jobs(on: "h2", store) == ["2"])
        await store.close()
    }
}
