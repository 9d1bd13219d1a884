@testable import DockerEngine
import Foundation
import HeliosTestSupport
import Testing

@Suite(.enabled(if: TestServices.dockerEnabled, "needs Docker: run `make test`"))
struct DockerClientTests {
    let docker: DockerClient

    init() throws {
        docker = DockerClient(socketPath: try TestServices.requireDocker())
    }

    @Test func negotiatesAnAPIVersionTheEngineSpeaks() async throws {
        let version = try await docker.apiVersion()
        #expect(version.split(separator: ".").count == 2)
        #expect(DockerClient.newestAPIVersion.compare(version, options: .numeric) != .orderedAscending)
    }

    @Test func containerLifecycleFoundByLabel() async throws {
        let marker = UUID().uuidString
        let id = try await docker.createContainer(
            name: "helios-test-\(marker.prefix(8))",
            spec: ContainerSpec(image: TestServices.image, command: ["sleep", "300"],
                                environment: ["GREETING": "hello"], labels: ["helios.test": marker]))
        defer { Task { try? await docker.removeContainer(id, force: true) } }

        let beforeStart = Date()
        try await docker.startContainer(id)
        let running = try await docker.inspectContainer(id)
        #expect(running.state.running)
        // When it started, to a fraction of a second; not ended yet (Docker's zero time).
        let started = try #require(running.state.started, "\(running.state.startedAt)")
        #expect(started >= beforeStart.addingTimeInterval(-0.01) && started <= Date(), "\(running.state.startedAt)")
        #expect(started.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) != 0, "\(running.state.startedAt)")
        #expect(running.state.finished == nil, "\(running.state.finishedAt)")

        let listed = try await docker.listContainers(labels: ["helios.test=\(marker)"])
        #expect(listed.map(\.id) == [id])
        #expect(listed.first?.labels["helios.test"] == marker)
        #expect(listed.first?.state == .running)

        try await docker.stopContainer(id, timeout: .seconds(1))
        let stopped = try await docker.inspectContainer(id).state
        #expect(stopped.running == false)
        #expect(try #require(stopped.finished) > started)
        try await docker.removeContainer(id)
        let gone = await #expect(throws: DockerError.self) { try await docker.inspectContainer(id) }
        #expect(gone?.isNotFound == true)
        #expect(try await docker.listContainers(labels: ["helios.test=\(marker)"]).isEmpty)
    }

    @Test func missingImageFailsWithDockersMessage() async throws {
        #expect(try await docker.imageExists(TestServices.image))
        #expect(try await docker.imageExists("helios-test/absent:never") == false)
        let error = await #expect(throws: DockerError.self) {
            try await docker.createContainer(name: "helios-test-\(UUID().uuidString.prefix(8))",
                                             spec: ContainerSpec(image: "helios-test/absent:never"))
        }
        #expect(error?.status == 404)
        #expect(error?.code == .imageNotFound)
        #expect(error?.message.contains("absent") == true)
    }

    /// Docker's answers, classified once: nobody outside DockerEngine reads its English.
    @Test func failuresAreClassifiedIntoCodesWithARemedy() async throws {
        let marker = "helios-test-\(UUID().uuidString.prefix(8))"
        let id = try await docker.createContainer(name: marker, spec: ContainerSpec(image: TestServices.image, command: ["sleep", "300"]))
        defer { Task { try? await docker.removeContainer(id, force: true) } }

        let taken = await #expect(throws: DockerError.self) {
            try await docker.createContainer(name: marker, spec: ContainerSpec(image: TestServices.image))
        }
        #expect(taken?.code == .conflict)

        let gone = await #expect(throws: DockerError.self) { try await docker.inspectContainer("helios-no-such-container") }
        #expect(gone?.code == .notFound)

        // A port another process holds on loopback: Docker fails the start.
        let holder = try ListeningSocket()
        let publishing = try await docker.createContainer(
            name: marker + "-port", spec: ContainerSpec(image: TestServices.image, command: ["sleep", "300"],
                                                        ports: [PublishedPort(containerPort: 80, hostPort: holder.port)]))
        defer { Task { try? await docker.removeContainer(publishing, force: true) } }
        let inUse = await #expect(throws: DockerError.self) { try await docker.startContainer(publishing) }
        #expect(inUse?.code == .portInUse, "\(String(describing: inUse))")
        holder.close()

        // Settings Docker refuses.
        let refused = await #expect(throws: DockerError.self) {
            let bad = try await docker.createContainer(
                name: marker + "-bad", spec: ContainerSpec(image: TestServices.image, addCapabilities: ["NET_ADMINN"]))
            try? await docker.removeContainer(bad, force: true)
        }
        #expect(refused?.code == .invalidRequest, "\(String(describing: refused))")
        #expect(refused?.remedy.isEmpty == false)
    }

    @Test func unreachableEngineSaysSo() async throws {
        let nowhere = DockerClient(socketPath: "/tmp/helios-no-such-socket-\(UUID().uuidString.prefix(8))")
        let error = await #expect(throws: DockerError.self) { try await nowhere.apiVersion() }
        #expect(error?.status == 0)
        #expect(error?.code == .engineUnreachable)
        #expect(error?.description.contains("dockerd") == true)
    }

    /// A running container labelled for this test, removed when `body` ends.
    func withRunningContainer<T>(command: [String] = ["sleep", "300"],
                                 _ body: (String, String) async throws -> T) async throws -> T {
        let marker = UUID().uuidString
        let id = try await docker.createContainer(
            name: "helios-test-\(marker.prefix(8))",
            spec: ContainerSpec(image: TestServices.image, command: command, labels: ["helios.test": marker]))
        do {
            try await docker.startContainer(id)
            let result = try await body(id, marker)
            try? await docker.removeContainer(id, force: true)
            return result
        } catch {
            try? await docker.removeContainer(id, force: true)
            throw error
        }
    }

    @Test func killEndsAContainerAndWaitReturnsItsExitCode() async throws {
        try await withRunningContainer(command: ["sh", "-c", "trap '' TERM; sleep 300"]) { id, _ in
            async let exitCode = docker.waitContainer(id)
            try await docker.killContainer(id)
            #expect(try await exitCode == 137) // 128 + SIGKILL
            #expect(try await docker.inspectContainer(id).state.running == false)
            // Waiting for a container that is not running returns at once.
            #expect(try await docker.waitContainer(id) == 137)
        }
        let exited = try await withRunningContainer(command: ["sh", "-c", "exit 7"]) { id, _ in
            try await docker.waitContainer(id)
        }
        #expect(exited == 7)
    }

    @Test func execRunsACommandAndReturnsItsExitCodeAndOutput() async throws {
        try await withRunningContainer { id, _ in
            let healthy = try await docker.exec(["sh", "-c", "echo ready; echo warn >&2"], in: id)
            #expect(healthy.exitCode == 0)
            // Both streams, in whatever order the engine interleaved them.
            #expect(healthy.output.split(separator: "\n").sorted() == ["ready", "warn"])
            let failing = try await docker.exec(["sh", "-c", "exit 3"], in: id)
            #expect(failing.exitCode == 3)
            let missing = await #expect(throws: DockerError.self) { try await docker.exec(["true"], in: "no-such-\(id)") }
            #expect(missing?.isNotFound == true)
        }
    }

    @Test(.timeLimit(.minutes(1))) // a replay that never comes fails, not hangs
    func theEventStreamReportsTheLabelledContainersLifecycle() async throws {
        let marker = UUID().uuidString
        let recorder = Recorder<DockerEvent>()
        let since = Date() // what happens while the stream opens is replayed, not missed
        let following = Task {
            for try await event in docker.containerEvents(labels: ["helios.test=\(marker)"], since: since) { recorder.append(event) }
        }
        defer { following.cancel() }
        // A container without the label is not reported.
        try await withRunningContainer(command: ["true"]) { _, _ in }
        let id = try await docker.createContainer(
            name: "helios-test-\(marker.prefix(8))",
            spec: ContainerSpec(image: TestServices.image, command: ["sh", "-c", "exit 0"], labels: ["helios.test": marker]))
        try await docker.startContainer(id)
        _ = try await docker.waitContainer(id)
        try await docker.removeContainer(id)
        #expect(await eventually { recorder.all.map(\.action).contains("destroy") })
        let actions = recorder.all.map(\.action)
        #expect(Array(actions.prefix(3)) == ["create", "start", "die"], "\(actions)")
        #expect(recorder.all.allSatisfy { $0.actor.id == id && $0.actor.attributes["helios.test"] == marker })
        // A stream opened afterwards from the same moment replays the whole lifecycle.
        var replayed: [String] = []
        for try await event in docker.containerEvents(labels: ["helios.test=\(marker)"], since: since) {
            replayed.append(event.action)
            if event.action == "destroy" { break }
        }
        #expect(replayed == actions, "\(replayed)")
        // Stopping to read ends the stream's transfer.
        following.cancel()
        #expect(await eventually { following.isCancelled })
    }

    @Test func splitsImageReferencesTheWayThePullEndpointTakesThem() {
        func split(_ image: String) -> [String?] { [ImageReference(image).name, ImageReference(image).tag] }
        #expect(split("busybox") == ["busybox", "latest"])
        #expect(split("busybox:1.36") == ["busybox", "1.36"])
        #expect(split("127.0.0.1:5000/team/app") == ["127.0.0.1:5000/team/app", "latest"])
        #expect(split("127.0.0.1:5000/team/app:2") == ["127.0.0.1:5000/team/app", "2"])
        #expect(split("app@sha256:abc") == ["app@sha256:abc", nil])
        #expect(ImageReference.registry(of: "busybox") == RegistryCredentials.dockerHub)
        #expect(ImageReference.registry(of: "library/busybox") == RegistryCredentials.dockerHub)
        #expect(ImageReference.registry(of: "localhost/app") == "localhost")
        #expect(ImageReference.registry(of: "registry.example.com/app:1") == "registry.example.com")
    }

    @Test func readsRegistryCredentialsFromADockerConfigFile() throws {
        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        let auth = Data("deployer:pa:ss".utf8).base64EncodedString()
        try directory.write("""
            {"auths": {"127.0.0.1:5000": {"auth": "\(auth)"},
                       "https://registry.example.com/v1/": {"identitytoken": "tok"}},
             "credsStore": "desktop"}
            """, to: "config.json")
        let config = try DockerConfig.load(from: directory.path + "/config.json")
        #expect(config.credentials(for: "127.0.0.1:5000/app:1") ==
                RegistryCredentials(username: "deployer", password: "pa:ss", serverAddress: "127.0.0.1:5000"))
        #expect(config.credentials(for: "registry.example.com/app")?.identityToken == "tok")
        #expect(config.credentials(for: "busybox") == nil)
        #expect(try DockerConfig.load(from: directory.path + "/absent.json") == DockerConfig())
        try directory.write(#"{"auths": {"r": {"auth": "not base64!"}}}"#, to: "bad.json")
        #expect(throws: DockerConfigError.self) { try DockerConfig.load(from: directory.path + "/bad.json") }
    }
}

@Suite(.enabled(if: TestServices.registryEnabled, "needs Docker and the test registry: run `make test`"))
struct ImagePullTests {
    let docker: DockerClient

    init() throws {
        docker = DockerClient(socketPath: try TestServices.requireDocker())
    }

    @Test func pullsAnImageFromAPrivateRegistryWithCredentialsAndReportsProgress() async throws {
        let image = try LocalRegistry.pushTestImage(label: "pull")
        #expect(try await docker.imageExists(image) == false)

        // Without credentials the registry refuses, and Docker's reason is in the error.
        let refused = await #expect(throws: DockerError.self) { try await docker.pullImage(image) }
        #expect(refused?.message.contains("auth") == true, "\(String(describing: refused))")
        #expect(try await docker.imageExists(image) == false)

        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        let config = try DockerConfig.load(from: try LocalRegistry.writeDockerConfig(in: directory))
        let progress = Recorder<PullProgress>()
        try await docker.pullImage(image, credentials: config.credentials(for: image)) { progress.append($0) }
        #expect(try await docker.imageExists(image))
        // The image's own layer was downloaded, with progress along the way.
        #expect(progress.all.contains { $0.id != nil && $0.status == "Pull complete" }, "\(progress.all)")
        #expect(progress.all.last?.status?.contains("Downloaded newer image") == true)
        _ = try? run(["docker", "rmi", image])
    }

    @Test func aPullOfAnImageTheRegistryDoesNotHaveCarriesDockersMessage() async throws {
        let registry = try TestServices.requireRegistry()
        let directory = try TemporaryDirectory("docker-config")
        defer { directory.remove() }
        let config = try DockerConfig.load(from: try LocalRegistry.writeDockerConfig(in: directory))
        let image = "\(registry.address)/helios-test/absent:1"
        let error = await #expect(throws: DockerError.self) {
            try await docker.pullImage(image, credentials: config.credentials(for: image))
        }
        #expect(error?.message.contains("not found") == true || error?.message.contains("unknown") == true,
                "\(String(describing: error))")
    }
}

