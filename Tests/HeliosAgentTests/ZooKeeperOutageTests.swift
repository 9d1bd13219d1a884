import DockerEngine
import Foundation
@testable import HeliosAgent
import HeliosModel
import HeliosPlanner
import HeliosStore
import HeliosTestSupport
import Logging
import Testing

@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct ZooKeeperOutageTests {
    /// ZooKeeper crashes for 30 s: every container keeps running untouched, one that dies meanwhile
    /// is started again from the tasks the agent knew, and its status reaches ZooKeeper once it is back.
    @Test func containersKeepRunningThroughAZooKeeperOutage() async throws {
        _ = try TestServices.requireZooKeeper() // the same Java and ZooKeeper install
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let server = try PrivateZooKeeperServer()
        defer { server.remove() }
        try await server.start()
        let host = "outage-\(UUID().uuidString.prefix(8).lowercased())"
        let store = try await HeliosStore.connect(servers: server.address)
        let jobs = (1...3).map { index in
            Job(name: "sleeper\(index)", version: "1", image: TestServices.image,
                command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
        }
        var desired = DesiredState()
        for job in jobs {
            desired.jobs[job.id] = job
            desired.deployments[job.name] = Deployment(name: job.name, jobID: job.id, hosts: [host])
        }
        let snapshot = try await store.readCluster()
        try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "t", now: Date()),
                              to: snapshot)
        let agent = Agent(configuration: AgentConfiguration(
            name: host, zooKeeper: server.address, dockerSocket: try TestServices.requireDocker(),
            reconcileInterval: .seconds(1),
            stateDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("helios-agent-\(host)").path),
            logger: Logger(label: "test.agent"))
        let running = Task { try await agent.run() }
        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }
        defer {
            running.cancel()
            Task { for container in (try? await containers()) ?? [] { try? await docker.removeContainer(container.id, force: true) } }
        }
        let allRunning = try await eventually {
            try await store.taskStatuses(host: host).values.filter { $0.state == .running }.count == 3
        }
        try #require(allRunning)
        let before = try await containers().sorted { $0.id < $1.id }
        var started: [String: String] = [:]
        for container in before { started[container.id] = try await docker.inspectContainer(container.id).state.startedAt }

        server.kill()
        let outage = ContinuousClock.now
        let crashed = before[0]
        try await docker.stopContainer(crashed.id, timeout: .seconds(1))
        let restarted = try await eventually(timeout: .seconds(25)) {
            let state = try await docker.inspectContainer(crashed.id).state
            return state.running && state.startedAt != started[crashed.id]
        }
        #expect(restarted, "the agent did not start the crashed container again while ZooKeeper was away")
        try await Task.sleep(until: outage + .seconds(30), clock: .continuous)

        try await server.start()
        let back = ContinuousClock.now
        // The untouched containers were never restarted; nothing was removed or added.
        let after = try await containers().sorted { $0.id < $1.id }
        #expect(after.map(\.id) == before.map(\.id))
        for container in after.dropFirst() {
            #expect(try await docker.inspectContainer(container.id).state.startedAt == started[container.id])
        }
        // Statuses catch up: every task RUNNING in its container, the host UP.
        let caughtUp = await eventually(timeout: .seconds(60)) {
            guard let statuses = try? await store.taskStatuses(host: host), (try? await store.isUp(host)) == true
            else { return false }
            return statuses.count == 3 && statuses.values.allSatisfy { $0.state == .running }
                && Set(statuses.values.compactMap(\.containerID)) == Set(before.map(\.id))
        }
        #expect(caughtUp)
        print("statuses caught up \(ContinuousClock.now - back) after ZooKeeper came back")
        // What happened meanwhile reached the history too: the crash, and the restart after it.
        let crashedJob = try #require(crashed.labels["helios.job"].flatMap(JobID.init))
        let recorded = try await eventually(timeout: .seconds(10)) {
            try await store.taskHistory(crashedJob, host: host).map(\.state).suffix(3) == [.exited, .starting, .running]
        }
        let history = try await store.taskHistory(crashedJob, host: host).map(\.state)
        #expect(recorded, "\(history)")
        await store.close()
    }

    /// An agent restarted while ZooKeeper is down knows its tasks from its state directory:
    /// a container of one of them that stopped meanwhile is started again, before ZooKeeper is back.
    @Test func anAgentStartedDuringAnOutageKeepsItsCachedTasksRunning() async throws {
        _ = try TestServices.requireZooKeeper()
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let server = try PrivateZooKeeperServer()
        defer { server.remove() }
        try await server.start()
        let host = "cached-\(UUID().uuidString.prefix(8).lowercased())"
        let store = try await HeliosStore.connect(servers: server.address)
        let job = Job(name: "sleeper", version: "1", image: TestServices.image,
                      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
        var desired = DesiredState()
        desired.jobs[job.id] = job
        desired.deployments[job.name] = Deployment(name: job.name, jobID: job.id, hosts: [host])
        let snapshot = try await store.readCluster()
        try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "t", now: Date()),
                              to: snapshot)
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("helios-agent-\(host)").path
        func startAgent() -> Task<Void, any Error> {
            let agent = Agent(configuration: AgentConfiguration(
                name: host, zooKeeper: server.address, dockerSocket: try! TestServices.requireDocker(),
                reconcileInterval: .seconds(1), stateDirectory: stateDirectory), logger: Logger(label: "test.agent"))
            return Task { try await agent.run() }
        }
        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }
        var agent = startAgent()
        defer {
            agent.cancel()
            Task { for container in (try? await containers()) ?? [] { try? await docker.removeContainer(container.id, force: true) } }
        }
        #expect(try await eventually { try await store.taskStatuses(host: host)[job.id]?.state == .running })
        let container = try #require(try await containers().first)

        // The agent stops, ZooKeeper goes down, the container stops; then the agent starts again.
        agent.cancel()
        _ = await agent.result
        server.kill()
        try await docker.stopContainer(container.id, timeout: .seconds(1))
        #expect(try await docker.inspectContainer(container.id).state.running == false)
        agent = startAgent()
        let restarted = try await eventually(timeout: .seconds(30)) {
            try await docker.inspectContainer(container.id).state.running
        }
        #expect(restarted, "the container of a cached task stayed stopped while ZooKeeper was down")
        #expect(try await containers().map(\.id) == [container.id]) // nothing created or removed without ZooKeeper

        try await server.start()
        #expect(await eventually(timeout: .seconds(60)) {
            (try? await store.taskStatuses(host: host)[job.id]?.state) == .running
        })
        await store.close()
    }
}
