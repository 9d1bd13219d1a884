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
struct AgentTests {
    /// An agent's world: its own chroot, host name and containers.
    struct Fixture {
        let host = "agent-\(UUID().uuidString.prefix(8).lowercased())"
        let chroot = TestServices.uniqueChroot("agent")
        let store: HeliosStore
        let docker: DockerClient
        let job = Job(name: "sleeper", version: "1", image: TestServices.image,
                      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])

        init() async throws {
            store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
            docker = DockerClient(socketPath: try TestServices.requireDocker())
        }

        /// Where the agent keeps its id; another `instance` is another agent under the same name.
        func stateDirectory(instance: String = "") -> String {
            FileManager.default.temporaryDirectory.appendingPathComponent("helios-agent-\(host)\(instance)").path
        }

        /// Starts an agent in this process; cancel the task to stop it.
        func startAgent(instance: String = "") throws -> Task<Void, any Error> {
            let agent = Agent(configuration: AgentConfiguration(
                name: host, zooKeeper: try TestServices.requireZooKeeper(), chroot: chroot,
                dockerSocket: try TestServices.requireDocker(), reconcileInterval: .seconds(1),
                stateDirectory: stateDirectory(instance: instance)),
                logger: Logger(label: "test.agent"))
            return Task { try await agent.run() }
        }

        /// Declares `job` deployed on this host (or nothing), as a master would.
        func deploy(_ job: Job?) async throws {
            try await deploy(job.map { ["d": $0] } ?? [:])
        }

        /// Declares deployments (name → job) on this host, as a master would.
        func deploy(_ deployments: [String: Job]) async throws {
            var desired = DesiredState()
            desired.settings.maxPrune = .percent(100)
            for (name, job) in deployments {
                desired.jobs[job.id] = job
                desired.deployments[name] = Deployment(name: name, jobID: job.id, hosts: [host])
            }
            let snapshot = try await store.readConfig()
            try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                               target: "test"), to: snapshot)
        }

        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }

        func status(_ id: JobID) async throws -> TaskStatus? {
            try await store.taskStatuses(host: host)[id]
        }

        func cleanUp(_ agent: Task<Void, any Error>?) async {
            agent?.cancel()
            _ = await agent?.result
            for container in (try? await containers()) ?? [] { try? await docker.removeContainer(container.id, force: true) }
            await store.close()
        }
    }

    @Test func aDeployedTaskRunsWithLabelsAndReportsRunning() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        try await fixture.deploy(fixture.job)

        #expect(try await eventually { try await fixture.status(fixture.job.id)?.state == .running })
        let containers = try await fixture.containers()
        #expect(containers.count == 1)
        #expect(containers.first?.state == "running")
        #expect(containers.first?.labels["helios.job"] == fixture.job.id.description)
        #expect(containers.first?.labels["helios.deployment"] == "d")
        #expect(try await fixture.status(fixture.job.id)?.containerID == containers.first?.id)
        #expect(try await fixture.store.isUp(fixture.host))
        // Every state the task went through is in its history, the last one RUNNING.
        let history = try await fixture.store.taskHistory(fixture.job.id, host: fixture.host)
        #expect(history.last?.state == .running)
        #expect(history.map(\.state).contains(.creating))
        await fixture.cleanUp(agent)
    }

    @Test func anAgentRestartAdoptsTheRunningContainer() async throws {
        let fixture = try await Fixture()
        var agent = try fixture.startAgent()
        try await fixture.deploy(fixture.job)
        #expect(try await eventually { try await fixture.status(fixture.job.id)?.state == .running })
        let before = try #require(try await fixture.containers().first)
        let startedAt = try await fixture.docker.inspectContainer(before.id).state.startedAt

        agent.cancel()
        _ = await agent.result
        agent = try fixture.startAgent()
        // Give the new agent several passes to (wrongly) touch the container.
        try await Task.sleep(for: .seconds(3))
        let after = try await fixture.containers()
        #expect(after.map(\.id) == [before.id])
        #expect(try await fixture.docker.inspectContainer(before.id).state.startedAt == startedAt)
        await fixture.cleanUp(agent)
    }

    @Test func aContainerThatDiesIsStartedAgain() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        try await fixture.deploy(fixture.job)
        #expect(try await eventually { try await fixture.containers().first?.state == "running" })
        let container = try #require(try await fixture.containers().first)
        let firstStart = try await fixture.docker.inspectContainer(container.id).state.startedAt

        try await fixture.docker.stopContainer(container.id, timeout: .seconds(1))
        let restarted = try await eventually {
            let state = try await fixture.docker.inspectContainer(container.id).state
            return state.running && state.startedAt != firstStart
        }
        #expect(restarted)
        await fixture.cleanUp(agent)
    }

    @Test func aSecondAgentUnderTheSameNameWaitsUntilTheFirstIsGone() async throws {
        let fixture = try await Fixture()
        let first = try fixture.startAgent()
        try await fixture.deploy(fixture.job)
        #expect(try await eventually { try await fixture.containers().first?.state == "running" })
        let container = try #require(try await fixture.containers().first)
        let startedAt = try await fixture.docker.inspectContainer(container.id).state.startedAt
        let firstID = try String(contentsOfFile: fixture.stateDirectory() + "/agent-id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func holder() async throws -> String {
            String(decoding: try await fixture.store.session.get("/status/hosts/\(fixture.host)/up").data, as: UTF8.self)
        }

        let second = try fixture.startAgent(instance: "-second")
        try await Task.sleep(for: .seconds(3))
        #expect(try await holder() == firstID, "the second agent took the name of a live one")
        // The first agent stops; the second takes over the host and adopts its container.
        first.cancel()
        _ = await first.result
        let tookOver = await eventually { (try? await holder()).map { $0 != firstID && !$0.isEmpty } == true }
        #expect(tookOver)
        try await Task.sleep(for: .seconds(2))
        #expect(try await fixture.containers().map(\.id) == [container.id])
        #expect(try await fixture.docker.inspectContainer(container.id).state.startedAt == startedAt)
        await fixture.cleanUp(second)
    }

    @Test func twentyTasksGetTwentyDistinctPortsOnLoopback() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var deployments: [String: Job] = [:]
        for index in 0..<20 {
            var job = fixture.job
            job.name = "server\(index)"
            job.ports = ["http": PortMapping(internal: 8080)]
            deployments[job.name] = job
        }
        try await fixture.deploy(deployments)
        let running = try await eventually(timeout: .seconds(120)) {
            try await fixture.containers().filter { $0.state == "running" }.count == 20
        }
        try #require(running)
        var ports: [Int] = []
        for container in try await fixture.containers() {
            let details = try await fixture.docker.inspectContainer(container.id)
            let bindings = try #require(details.hostConfig.portBindings["8080/tcp"])
            #expect(bindings.map(\.hostIP) == ["127.0.0.1"]) // never on other addresses
            let port = try #require(Int(bindings[0].hostPort))
            #expect(details.config.env.contains("HELIOS_PORT_HTTP=\(port)"))
            ports.append(port)
        }
        #expect(Set(ports).count == 20, "ports clash: \(ports.sorted())")
        #expect(ports.allSatisfy { (20_000...32_767).contains($0) })
        await fixture.cleanUp(agent)
    }

    @Test func aContainerGetsEverySettingOfItsJob() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var job = fixture.job
        job.env = ["GREETING": "hello"]
        job.labels = ["team": "edge"]
        job.ramdisks = ["/scratch": "rw,size=1m"]
        job.volumes = ["/data"]
        job.resources = Resources(memory: 64 << 20, cpuShares: 256)
        job.hostname = "helios-test"
        job.dropCapabilities = ["NET_RAW"]
        job.securityOpt = ["no-new-privileges"]
        try await fixture.deploy(job)
        #expect(try await eventually { try await fixture.containers().first?.state == "running" })
        let details = try await fixture.docker.inspectContainer(try #require(try await fixture.containers().first).id)
        #expect(details.config.env.contains("GREETING=hello"))
        #expect(details.config.labels["team"] == "edge")
        #expect(details.config.hostname == "helios-test")
        #expect(details.hostConfig.tmpfs == ["/scratch": "rw,size=1m"])
        #expect(details.hostConfig.memory == 64 << 20)
        #expect(details.hostConfig.cpuShares == 256)
        #expect(details.hostConfig.capDrop == ["NET_RAW"])
        #expect(details.hostConfig.securityOpt == ["no-new-privileges"])
        await fixture.cleanUp(agent)
    }

    @Test func aCrashLoopingContainerIsFlappingAndItsRestartsBackOff() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var job = fixture.job
        job.command = ["sh", "-c", "exit 3"]
        try await fixture.deploy(job)
        let flapping = try await eventually(timeout: .seconds(90)) {
            try await fixture.status(job.id)?.throttled == .flapping
        }
        let status = try await fixture.status(job.id)
        #expect(flapping, "status: \(String(describing: status))")
        // Backing off: over the next 5 s (five reconcile passes) it starts at most twice.
        let container = try #require(try await fixture.containers().first)
        var starts: Set<String> = [try await fixture.docker.inspectContainer(container.id).state.startedAt]
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(500))
            starts.insert(try await fixture.docker.inspectContainer(container.id).state.startedAt)
        }
        #expect(starts.count <= 3, "\(starts.count) starts in 5 s")
        await fixture.cleanUp(agent)
    }

    @Test func aJobWhoseImageIsMissingFailsAndSaysSo() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        let job = Job(name: "ghost", version: "1", image: "helios/absent-\(fixture.host):1")
        try await fixture.deploy(job)
        let reported = try await eventually { try await fixture.status(job.id)?.throttled == .imageMissing }
        #expect(reported)
        let status = try await fixture.status(job.id)
        #expect(status?.state == .failed)
        #expect(status?.containerError?.contains(job.image) == true)
        #expect(try await fixture.containers().isEmpty)
        await fixture.cleanUp(agent)
    }

    @Test func undeployingRemovesTheContainerAndItsStatus() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        try await fixture.deploy(fixture.job)
        #expect(try await eventually { try await fixture.status(fixture.job.id)?.state == .running })

        try await fixture.deploy(nil)
        #expect(try await eventually { try await fixture.containers().isEmpty })
        #expect(try await eventually { try await fixture.status(fixture.job.id) == nil })
        await fixture.cleanUp(agent)
    }

    @Test func aContainerOfThisHostThatNoTaskOwnsIsReaped() async throws {
        let fixture = try await Fixture()
        let stray = try await fixture.docker.createContainer(
            name: "helios-stray-\(UUID().uuidString.prefix(8))",
            spec: ContainerSpec(image: TestServices.image, command: ["sleep", "300"],
                                labels: ["helios.host": fixture.host, "helios.job": "gone:1:abcdef"]))
        try await fixture.docker.startContainer(stray)
        let agent = try fixture.startAgent()
        #expect(try await eventually { try await fixture.containers().isEmpty })
        await fixture.cleanUp(agent)
    }
}
