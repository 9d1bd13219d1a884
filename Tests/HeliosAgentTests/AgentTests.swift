import DockerEngine
import Foundation
@testable import HeliosAgent
import HeliosModel
import HeliosPlanner
@testable import HeliosStore
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
        /// Agents of tests running at once share one Docker engine: each gets host ports of its own.
        let portRange = TestServices.portRange()
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
        func startAgent(instance: String = "", dockerConfig: String = "/nonexistent/config.json",
                        policy: HostPolicy = HostPolicy(), secrets: String? = nil) throws -> Task<Void, any Error> {
            var configuration = AgentConfiguration(
                name: host, zooKeeper: try TestServices.requireZooKeeper(), chroot: chroot,
                dockerSocket: try TestServices.requireDocker(), reconcileInterval: .seconds(1),
                stateDirectory: stateDirectory(instance: instance), portRange: portRange,
                labels: ["zone": "test-a"], dockerConfig: dockerConfig)
            configuration.policy = policy
            configuration.secretsDirectory = secrets
            let agent = Agent(configuration: configuration, logger: Logger(label: "test.agent"))
            return Task { try await agent.run() }
        }

        /// Declares `job` deployed on this host (or nothing), as a master would.
        func deploy(_ job: Job?) async throws {
            try await deploy(job.map { ["d": $0] } ?? [:])
        }

        /// Declares deployments (name → job) on this host, as a master would.
        func deploy(_ deployments: [String: Job], goal: DeploymentGoal = .start) async throws {
            var desired = DesiredState()
            desired.settings.maxPrune = .percent(100)
            for (name, job) in deployments {
                desired.jobs[job.id] = job
                desired.deployments[name] = Deployment(name: name, jobID: job.id, hosts: [host], goal: goal)
            }
            let snapshot = try await store.readCluster()
            try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                               target: "test", now: Date()), to: snapshot)
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
        #expect(containers.first?.state == .running)
        #expect(containers.first?.labels["helios.job"] == fixture.job.id.description)
        #expect(containers.first?.labels["helios.deployment"] == "d")
        #expect(try await fixture.status(fixture.job.id)?.containerID == containers.first?.id)
        #expect(try await fixture.store.isUp(fixture.host))
        #expect(try await fixture.store.readCluster().state.hosts[fixture.host]?.labels == ["zone": "test-a"])
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
        #expect(try await eventually { try await fixture.containers().first?.state == .running })
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
        #expect(try await eventually { try await fixture.containers().first?.state == .running })
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
            try await fixture.containers().filter { $0.state == .running }.count == 20
        }
        try #require(running)
        var ports: [Int] = []
        for container in try await fixture.containers() {
            let details = try await fixture.docker.inspectContainer(container.id)
            let bindings = try #require(details.hostConfig.portBindings["8080/tcp"])
            #expect(bindings.map(\.hostIP) == ["127.0.0.1"]) // never on other addresses
            let port = try #require(Int(bindings[0].hostPort))
            #expect(details.config.env.contains("HELIOS_PORT_HTTP=127.0.0.1:\(port)"))
            ports.append(port)
        }
        #expect(Set(ports).count == 20, "ports clash: \(ports.sorted())")
        #expect(ports.allSatisfy { fixture.portRange.contains($0) })
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
        #expect(try await eventually { try await fixture.containers().first?.state == .running })
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

    @Test func aStaticPortHeldByAnotherProcessBacksOffAndRunsOnceFree() async throws {
        let fixture = try await Fixture()
        // Another process holds the job's static port on loopback: Docker cannot publish it.
        let holder = try ListeningSocket()
        var job = fixture.job
        job.ports = ["http": PortMapping(internal: 80, external: holder.port)]
        let agent = try fixture.startAgent()
        try await fixture.deploy(job)
        try #require(try await eventually(timeout: .seconds(60)) {
            try await fixture.status(job.id)?.throttled == .portInUse
        })
        // Backing off (2 s doubling), not a create and remove a second: at most 4 attempts in 8 s.
        let start = try await fixture.store.taskHistory(job.id, host: fixture.host).filter { $0.state == .creating }.count
        try await Task.sleep(for: .seconds(8))
        let attempts = try await fixture.store.taskHistory(job.id, host: fixture.host).filter { $0.state == .creating }.count - start
        #expect(attempts <= 4, "\(attempts) container creations in 8 s")
        holder.close()
        let running = try await eventually(timeout: .seconds(90)) { try await fixture.status(job.id)?.state == .running }
        let final = try await fixture.status(job.id)
        #expect(running, "\(String(describing: final))")
        await fixture.cleanUp(agent)
    }

    @Test func aDisplacedAgentChangesNothingUntilTheHostIsItsAgain() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        try await fixture.deploy(fixture.job)
        try #require(try await eventually { try await fixture.status(fixture.job.id)?.state == .running })
        // Another agent takes the host name (its session's `up` node replaces this agent's).
        let intruder = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: fixture.chroot)
        // The agent registers again on each pass: the intruder may lose the race and try again.
        let taken = await eventually(timeout: .seconds(30)) {
            try? await intruder.session.delete(Paths.hostUp(fixture.host))
            return (try? await intruder.registerHost(fixture.host, agentID: "intruder", info: HostInfo(
                hostname: "x", agentVersion: "test", dockerAPIVersion: nil))) != nil
        }
        try #require(taken, "the intruder never took the host")
        // The task is undeployed meanwhile: the displaced agent must not act on it.
        try await fixture.deploy(nil)
        try await Task.sleep(for: .seconds(4)) // four reconcile passes
        let running = try await fixture.containers().filter { $0.state == .running }
        #expect(running.count == 1, "a displaced agent changed the host's containers")
        // The other agent goes: the host is this agent's again, and it acts.
        await intruder.close()
        let stopped = try await eventually(timeout: .seconds(60)) {
            try await fixture.containers().allSatisfy { $0.state != .running }
        }
        #expect(stopped)
        #expect(try await fixture.store.session.get(Paths.hostUp(fixture.host)).data == Data(try String(
            contentsOfFile: fixture.stateDirectory() + "/agent-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        await fixture.cleanUp(agent)
    }

    @Test func aJobWhoseImageTheRegistryLacksIsImageMissing() async throws {
        let fixture = try await Fixture()
        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        let agent = try fixture.startAgent(dockerConfig: try LocalRegistry.writeDockerConfig(in: directory))
        let job = Job(name: "ghost", version: "1", image: "\(try TestServices.requireRegistry().address)/helios-test/absent:1")
        try await fixture.deploy(job)
        let reported = try await eventually { try await fixture.status(job.id)?.throttled == .imageMissing }
        let status = try await fixture.status(job.id)
        #expect(reported, "\(String(describing: status))")
        #expect(status?.state == .failed)
        #expect(status?.containerError?.contains("not found") == true, "\(String(describing: status))")
        #expect(try await fixture.containers().isEmpty)
        await fixture.cleanUp(agent)
    }

    /// The image exists only in the password-protected loopback registry: without credentials
    /// the pull fails (IMAGE_PULL_FAILED, Docker's reason); with the docker config it is pulled
    /// and runs.
    @Test func aJobWhoseImageIsOnlyInTheRegistryIsPulledAndRuns() async throws {
        let fixture = try await Fixture()
        let image = try LocalRegistry.pushTestImage(label: "agent")
        defer { _ = try? run(["docker", "rmi", image]) }
        let job = Job(name: "pulled", version: "1", image: image, command: fixture.job.command)
        var agent = try fixture.startAgent()
        try await fixture.deploy(job)
        let refused = try await eventually { try await fixture.status(job.id)?.throttled == .imagePullFailed }
        let status = try await fixture.status(job.id)
        #expect(refused, "\(String(describing: status))")
        #expect(status?.state == .failed)
        #expect(status?.containerError?.contains("auth") == true, "\(String(describing: status))")
        agent.cancel()
        _ = await agent.result

        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        agent = try fixture.startAgent(dockerConfig: try LocalRegistry.writeDockerConfig(in: directory))
        let running = try await eventually(timeout: .seconds(60)) { try await fixture.status(job.id)?.state == .running }
        let final = try await fixture.status(job.id)
        #expect(running, "\(String(describing: final))")
        #expect(try await fixture.docker.imageExists(image))
        let states = try await fixture.store.taskHistory(job.id, host: fixture.host).map(\.state)
        #expect(states.suffix(4) == [.pullingImage, .creating, .starting, .running], "\(states)")
        await fixture.cleanUp(agent)
    }

    /// Every state a task goes through, in order, as its history records them: created, started,
    /// health-checked until its HTTP server answers, running; then stopped gracefully.
    @Test func aTaskGoesThroughEachStateAndIsRunningOnlyOnceHealthy() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var job = fixture.job
        job.name = "web"
        // The server answers at once, but 404 until the test makes the checked page.
        job.command = ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www"]
        job.ports = ["http": PortMapping(internal: 8080)]
        job.healthCheck = HealthCheck(http: .init(port: "http", path: "/ready.html"))
        try await fixture.deploy(["web": job])

        let checking = try await eventually {
            try await fixture.status(job.id)?.containerError?.contains("HTTP 404") == true
        }
        let status = try await fixture.status(job.id)
        #expect(checking, "\(String(describing: status))")
        #expect(status?.state == .healthChecking)
        try await Task.sleep(for: .seconds(2))
        #expect(try await fixture.status(job.id)?.state == .healthChecking)
        let container = try #require(try await fixture.containers().first)
        #expect(try await fixture.docker.exec(["sh", "-c", "echo ok > /www/ready.html"], in: container.id).exitCode == 0)
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.status(job.id)?.state == .running })

        try await fixture.deploy(["web": job], goal: .stop)
        #expect(try await eventually { try await fixture.status(job.id)?.state == .stopped })
        let states = try await fixture.store.taskHistory(job.id, host: fixture.host).map(\.state)
        // HEALTHCHECKING is recorded once per new reason the check gives.
        #expect(states.first(where: { $0 != .healthChecking }) == .creating)
        #expect(states.filter { $0 != .healthChecking } == [.creating, .starting, .running, .stopping, .stopped], "\(states)")
        #expect(states.firstIndex(of: .healthChecking).map { $0 == 2 } == true, "\(states)")
        #expect(try await fixture.containers().map(\.state) == [.exited])
        await fixture.cleanUp(agent)
    }

    @Test func aFailingHealthCheckKeepsTheTaskHealthChecking() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var tcp = fixture.job
        tcp.name = "deaf"
        tcp.ports = ["service": PortMapping(internal: 9000)] // nothing listens on it
        tcp.healthCheck = HealthCheck(tcp: .init(port: "service"))
        var exec = fixture.job
        exec.name = "unready"
        exec.healthCheck = HealthCheck(exec: ["sh", "-c", "echo not ready; exit 1"])
        try await fixture.deploy(["deaf": tcp, "unready": exec])

        #expect(try await eventually {
            let deaf = try await fixture.status(tcp.id)?.state
            let unready = try await fixture.status(exec.id)?.state
            return deaf == .healthChecking && unready == .healthChecking
        })
        try await Task.sleep(for: .seconds(5))
        let deaf = try #require(try await fixture.status(tcp.id))
        let unready = try #require(try await fixture.status(exec.id))
        #expect(deaf.state == .healthChecking)
        #expect(unready.state == .healthChecking)
        #expect(unready.containerError?.contains("exited 1: not ready") == true, "\(unready)")
        let history = try await fixture.store.taskHistory(tcp.id, host: fixture.host).map(\.state)
        #expect(!history.contains(.running), "\(history)")
        await fixture.cleanUp(agent)
    }

    /// A container that ignores SIGTERM: stopping waits the grace period, then `docker stop`
    /// waits the stop timeout and kills it.
    @Test func stoppingWaitsTheGracePeriodThenTheStopTimeoutThenKills() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var job = fixture.job
        job.name = "stubborn"
        job.command = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
        job.gracePeriod = 2_000
        job.stopTimeout = 1_000
        try await fixture.deploy(["stubborn": job])
        #expect(try await eventually { try await fixture.status(job.id)?.state == .running })
        let container = try #require(try await fixture.containers().first)

        try await fixture.deploy(["stubborn": job], goal: .stop)
        #expect(try await eventually { try await fixture.status(job.id)?.state == .stopped })
        let state = try await fixture.docker.inspectContainer(container.id).state
        #expect(!state.running)
        #expect(state.exitCode == 137) // killed: it ignored SIGTERM
        // It ran the grace period and the stop timeout after the agent said STOPPING (a lower
        // bound only: a loaded machine makes it later, never earlier).
        let history = try await fixture.store.taskHistory(job.id, host: fixture.host)
        let stopping = try #require(history.last { $0.state == .stopping }?.at, "\(history)")
        let finished = try #require(state.finished, "\(state.finishedAt)")
        let took = finished.timeIntervalSince(stopping)
        #expect(took >= 2.9, "stopped \(took) s after STOPPING")
        await fixture.cleanUp(agent)
    }

    /// Ten agent restarts with five containers running: not one is restarted or replaced.
    @Test func tenAgentRestartsRestartNoContainer() async throws {
        let fixture = try await Fixture()
        var agent = try fixture.startAgent()
        var deployments: [String: Job] = [:]
        for index in 0..<5 {
            var job = fixture.job
            job.name = "steady\(index)"
            deployments[job.name] = job
        }
        try await fixture.deploy(deployments)
        let running = try await eventually {
            try await fixture.store.taskStatuses(host: fixture.host).values.filter { $0.state == .running }.count == 5
        }
        try #require(running)
        var before: [String: String] = [:]
        for container in try await fixture.containers() {
            before[container.id] = try await fixture.docker.inspectContainer(container.id).state.startedAt
        }
        #expect(before.count == 5)

        for _ in 0..<10 {
            agent.cancel()
            _ = await agent.result
            agent = try fixture.startAgent()
            // The new agent has registered and made its passes before the next restart.
            #expect(try await eventually { try await fixture.store.isUp(fixture.host) })
            try await Task.sleep(for: .seconds(1.5))
        }
        var after: [String: String] = [:]
        for container in try await fixture.containers() {
            after[container.id] = try await fixture.docker.inspectContainer(container.id).state.startedAt
        }
        #expect(after == before)
        let statuses = try await fixture.store.taskStatuses(host: fixture.host)
        #expect(statuses.count == 5 && statuses.values.allSatisfy { $0.state == .running && before[$0.containerID ?? ""] != nil })
        // No restart shows in any task's history either.
        for job in deployments.values {
            let states = try await fixture.store.taskHistory(job.id, host: fixture.host).map(\.state)
            #expect(states == [.creating, .starting, .running], "\(job.name): \(states)")
        }
        await fixture.cleanUp(agent)
    }

    /// A deployment's new task on a host starts only once its old one there has stopped: a
    /// rollout without `overlap` never runs both (the old one takes 2 s to stop here).

    @Test func aReplacingTaskStartsOnlyOnceTheOldOneStopped() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var old = fixture.job
        old.command = ["sh", "-c", "trap 'sleep 2; exit 0' TERM; while true; do sleep 1; done"]
        try await fixture.deploy(old)
        #expect(try await eventually { try await fixture.status(old.id)?.state == .running })
        let oldContainer = try #require(try await fixture.containers().first)

        var new = fixture.job
        new.version = "2"
        try await fixture.deploy(new)
        #expect(try await eventually { try await fixture.status(new.id)?.state == .running })
        let newContainer = try #require(try await fixture.containers().first { $0.id != oldContainer.id })
        let stopped = try await fixture.docker.inspectContainer(oldContainer.id).state
        let started = try await fixture.docker.inspectContainer(newContainer.id).state
        #expect(try #require(started.started) > #require(stopped.finished),
                "the new container started at \(started.startedAt), before the old one stopped at \(stopped.finishedAt)")
        await fixture.cleanUp(agent)
    }

    /// A new job replaces the old one's container, which is kept stopped for inspection; the
    /// next replacement removes it and keeps the newer one; the statuses go.
    @Test func undeployedTasksKeepTheirLastExitedContainer() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        let first = fixture.job
        var second = fixture.job
        second.version = "2"
        try await fixture.deploy(first)
        #expect(try await eventually { try await fixture.status(first.id)?.state == .running })
        let firstContainer = try #require(try await fixture.containers().first)

        try await fixture.deploy(second)
        #expect(try await eventually { try await fixture.status(second.id)?.state == .running })
        #expect(try await eventually { try await fixture.status(first.id) == nil })
        #expect(try await eventually {
            try await fixture.containers().first { $0.id == firstContainer.id }?.state == .exited
        })

        try await fixture.deploy(nil)
        #expect(try await eventually { try await fixture.status(second.id) == nil })
        // Only the last one stays, stopped.
        #expect(try await eventually {
            let containers = try await fixture.containers()
            return containers.count == 1 && containers[0].id != firstContainer.id && containers[0].state == .exited
        })
        try await Task.sleep(for: .seconds(2))
        #expect(try await fixture.containers().count == 1)
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

    @Test func aContainerDockerRefusesFailsOnceAndIsNotTriedAgain() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent(policy: HostPolicy(capabilities: ["NET_ADMINN"])) // the host lets it through to Docker
        var job = fixture.job
        job.addCapabilities = ["NET_ADMINN"] // no such capability: Docker refuses the container
        try await fixture.deploy(job)
        let refused = try await eventually(timeout: .seconds(60)) {
            try await fixture.status(job.id)?.throttled == .containerRefused
        }
        let status = try await fixture.status(job.id)
        #expect(refused, "\(String(describing: status))")
        #expect(status?.state == .failed)
        #expect(status?.containerError?.contains("NET_ADMINN") == true)
        // Given up: three reconcile passes later, no new attempt. (The history is written after the
        // status: wait for the failure to be in it before counting.)
        try #require(try await eventually { try await fixture.store.taskHistory(job.id, host: fixture.host).contains { $0.state == .failed } })
        let attempts = try await fixture.store.taskHistory(job.id, host: fixture.host).filter { $0.state == .creating }.count
        try await Task.sleep(for: .seconds(3))
        #expect(try await fixture.store.taskHistory(job.id, host: fixture.host).filter { $0.state == .creating }.count == attempts)
        #expect(attempts == 1)
        await fixture.cleanUp(agent)
    }

    /// An orphan (its task removed while no agent ran) stops as its job asked: a stop timeout
    /// of 0 kills at once, where Docker's default would let its TERM trap end it gracefully.
    @Test func anOrphanIsStoppedWithItsJobsStopTimeout() async throws {
        let fixture = try await Fixture()
        var job = fixture.job
        // Its TERM trap takes a second to end it: a kill comes first with a stop timeout of 0.
        job.command = ["sh", "-c", "trap 'sleep 1; exit 42' TERM; while true; do sleep 0.1; done"]
        job.stopTimeout = 0
        let first = try fixture.startAgent()
        try await fixture.deploy(job)
        try #require(try await eventually { try await fixture.status(job.id)?.state == .running })
        first.cancel()
        _ = await first.result
        try await fixture.deploy(nil)

        let exits = Recorder<String>()
        let since = Date() // a container that dies while the stream opens is still reported
        let follower = Task {
            for try await event in fixture.docker.containerEvents(labels: ["helios.host=\(fixture.host)"], since: since) where event.action == "die" {
                exits.append(event.actor.attributes["exitCode"] ?? "?")
            }
        }
        let agent = try fixture.startAgent()
        #expect(try await eventually(timeout: .seconds(30)) { try await fixture.containers().isEmpty })
        #expect(exits.all == ["137"], "killed at once, not ended by its TERM trap")
        follower.cancel()
        await fixture.cleanUp(agent)
    }

    /// The host's policy refuses what the job asks before anything is created; a host that
    /// allows it runs the same job.
    @Test func aTaskThatBreaksTheHostsPolicyFailsWithTheReasonAndCreatesNothing() async throws {
        let fixture = try await Fixture()
        let agent = try fixture.startAgent()
        var job = fixture.job
        job.volumes = ["/etc:/host-etc:ro"]
        job.addCapabilities = ["NET_ADMIN"]
        try await fixture.deploy(job)
        let refused = try await eventually(timeout: .seconds(30)) { try await fixture.status(job.id)?.throttled == .refusedByPolicy }
        let status = try await fixture.status(job.id)
        #expect(refused, "\(String(describing: status))")
        #expect(status?.state == .failed)
        #expect(status?.containerError?.contains("the host path /etc is not under an allowed volume root") == true)
        #expect(status?.containerError?.contains("capability NET_ADMIN is not one the host allows") == true)
        #expect(try await fixture.containers().isEmpty)
        agent.cancel()
        _ = await agent.result

        let allowing = try fixture.startAgent(policy: HostPolicy(volumeRoots: ["/etc"], capabilities: ["NET_ADMIN"]))
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.status(job.id)?.state == .running })
        await fixture.cleanUp(allowing)
    }

    /// A secret by reference: missing, the task FAILS with the secret's name and is tried again;
    /// readable by others, it is refused; in place, the container gets the value — and the
    /// value is in no ZooKeeper node the agent wrote.
    @Test func aSecretReferenceIsResolvedFromTheHostsSecretsDirectory() async throws {
        let fixture = try await Fixture()
        let directory = try TemporaryDirectory("secrets")
        defer { directory.remove() }
        let canary = "canary-\(UUID().uuidString)"
        let agent = try fixture.startAgent(secrets: directory.path)
        var job = fixture.job
        job.secrets = ["DB_PASS": "db-password"]
        try await fixture.deploy(job)
        #expect(try await eventually(timeout: .seconds(30)) { try await fixture.status(job.id)?.throttled == .secretMissing })
        let missing = try await fixture.status(job.id)
        #expect(missing?.state == .failed)
        #expect(missing?.containerError?.contains("secret db-password is not in \(directory.path)") == true, "\(String(describing: missing))")
        #expect(try await fixture.containers().isEmpty)

        let file = directory.path + "/db-password"
        #expect(FileManager.default.createFile(atPath: file, contents: Data((canary + "\n").utf8), attributes: [.posixPermissions: 0o644]))
        #expect(try await eventually(timeout: .seconds(30)) {
            try await fixture.status(job.id)?.containerError?.contains("readable by it alone") == true
        })
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        // Tried again after its back-off: it runs, with the value (without the newline).
        #expect(try await eventually(timeout: .seconds(90)) { try await fixture.status(job.id)?.state == .running })
        let container = try #require(try await fixture.containers().first)
        let details = try await fixture.docker.inspectContainer(container.id)
        #expect(details.config.env.contains("DB_PASS=\(canary)"))
        #expect(!details.config.labels.values.contains { $0.contains(canary) })
        let history = try await fixture.store.taskHistory(job.id, host: fixture.host)
        let written = try await fixture.store.taskStatuses(host: fixture.host)
        #expect(!"\(history)\(written)".contains(canary))
        // Each status says when the agent saw it.
        #expect(!history.isEmpty && history.allSatisfy { $0.at != nil }, "\(history)")
        await fixture.cleanUp(agent)
    }
}
