import DockerEngine
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

        try await docker.startContainer(id)
        let running = try await docker.inspectContainer(id)
        #expect(running.state.running)

        let listed = try await docker.listContainers(labels: ["helios.test=\(marker)"])
        #expect(listed.map(\.id) == [id])
        #expect(listed.first?.labels["helios.test"] == marker)
        #expect(listed.first?.state == "running")

        try await docker.stopContainer(id, timeout: .seconds(1))
        #expect(try await docker.inspectContainer(id).state.running == false)
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
        #expect(error?.message.contains("absent") == true)
    }

    @Test func unreachableEngineSaysSo() async throws {
        let nowhere = DockerClient(socketPath: "/tmp/helios-no-such-socket-\(UUID().uuidString.prefix(8))")
        let error = await #expect(throws: DockerError.self) { try await nowhere.apiVersion() }
        #expect(error?.status == 0)
        #expect(error?.description.contains("dockerd") == true)
    }
}
