import DockerEngine
import Foundation
import HeliosTestSupport
import Testing
import ZooKeeper

/// A whole cluster run as the security guide says: ZooKeeper identities from `helios zk
/// credentials`, a secret by reference in the agent's secrets directory. The container gets the
/// secret; no ZooKeeper node, log, plan or API reply has it; a client without credentials
/// reads nothing of the tree.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct SecuredClusterTests {
    @Test func aSecuredClusterDeploysASecretThatOnlyTheContainerSees() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let canary = "canary-\(UUID().uuidString.prefix(12))"
        let directory = try TemporaryDirectory("secured")
        let git = try GitFixture()
        let host = "agent-\(UUID().uuidString.prefix(8).lowercased())"
        let chroot = TestServices.uniqueChroot("secured")
        let port = try freeLoopbackPort()
        defer { git.remove(); directory.remove() }
        func helios(_ arguments: [String]) throws -> CommandResult {
            try execute([heliosExecutable.path] + arguments, in: directory.path,
                        environment: ["NO_COLOR": "1", "HELIOS_MASTER": "", "HELIOS_TOKEN": ""])
        }

        // Identities, then the secret on the agent's host (mode 600).
        let credentials = try helios(["zk", "credentials", "--file", "master.auth"])
        #expect(credentials.status == 0, "\(credentials.errors)")
        #expect(try helios(["zk", "credentials", host, "--master", "master.auth", "--file", "agent.auth"]).status == 0)
        try FileManager.default.createDirectory(atPath: directory.path + "/secrets", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory.path + "/secrets/db-password", contents: Data(canary.utf8),
                                               attributes: [.posixPermissions: 0o600]))

        let manifests = [
            "web.yaml": """
                kind: Job
                name: web
                version: "1"
                image: \(TestServices.image)
                command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
                env:
                  LOG_LEVEL: info
                  DB_PASS: {secret: db-password}
                ---
                kind: Deployment
                name: web
                job: web
                hosts: [\(host)]
                """,
        ]
        try git.commit(manifests, message: "web with a secret")
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", chroot, "--zk-auth-file", directory.path + "/master.auth",
            "--repo", git.remote, "--poll", "500ms", "--state-dir", directory.path + "/master", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        let agent = try Daemon(name: "agent", executable: heliosExecutable, arguments: [
            "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", host, "--zk-auth-file", directory.path + "/agent.auth",
            "--secrets-dir", directory.path + "/secrets", "--docker-socket", try TestServices.requireDocker(),
            "--reconcile-interval", "5s", "--state-dir", directory.path + "/agent",
        ], directory: directory)
        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }
        do {
            let running = try await eventually { try await containers().contains { $0.state == .running } }
            #expect(running, "the job never ran: \(master.log.suffix(1500)) \(agent.log.suffix(1500))")
            if let container = try await containers().first {
                #expect(try await docker.inspectContainer(container.id).config.env.contains("DB_PASS=\(canary)"))
            }

            // Everything a user or another process can read.
            var outputs: [String: String] = [:]
            let base = "http://127.0.0.1:\(port)"
            for path in ["/v1/state", "/v1/hosts", "/v1/hosts/\(host)", "/v1/jobs", "/v1/deployments", "/v1/deployments/web",
                         "/v1/sync", "/v1/audit", "/metrics"] {
                outputs["GET \(path)"] = try APISecurityTests.call("GET", base + path).body
            }
            #expect(outputs["GET /v1/jobs"]?.contains("db-password") == true, "the reference is shown, by name")
            try Data(contentsOf: GoldenExampleTests.examples.appendingPathComponent("basic/state.json"))
                .write(to: directory.url.appendingPathComponent("empty.json"))
            for format in ["text", "json", "markdown"] {
                let plan = try helios(["plan", git.workTree, "--state", "empty.json", "--format", format])
                outputs["plan \(format)"] = plan.output + plan.errors
            }
            outputs["ZooKeeper"] = try await everyNode(zooKeeper, chroot, credentials: directory.path + "/master.auth")
            #expect(outputs["ZooKeeper"]?.contains("LOG_LEVEL") == true, "the walk read the job")
            outputs["master log"] = master.log
            outputs["agent log"] = agent.log
            for (name, output) in outputs.sorted(by: { $0.key < $1.key }) {
                #expect(!output.contains(canary), "the canary leaked into \(name): \(output.prefix(400))")
            }

            // Without credentials, nothing of the tree.
            let stranger = try await ZooKeeperSession.connect(servers: zooKeeper, chroot: chroot)
            await #expect(throws: ZooKeeperError.self) { _ = try await stranger.get("/config/version") }
            await #expect(throws: ZooKeeperError.self) { _ = try await stranger.children("/") }
            await stranger.close()
        } catch {
            Issue.record("\(error)")
        }
        await agent.stop()
        await master.stop()
        for container in (try? await containers()) ?? [] { try? await docker.removeContainer(container.id, force: true) }
    }

    /// The data of every node under `chroot`, read as the master's identity.
    func everyNode(_ servers: String, _ chroot: String, credentials file: String) async throws -> String {
        let line = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").first { !$0.hasPrefix("#") }!
        let session = try await ZooKeeperSession.connect(servers: servers, chroot: chroot, access: ZooKeeperAccess(
            credentials: [.init(scheme: "digest", value: String(line))]))
        var text = ""
        var pending = ["/"]
        while let path = pending.popLast() {
            text += path + " " + String(decoding: try await session.get(path).data, as: UTF8.self) + "\n"
            pending += try await session.children(path).map { (path == "/" ? "" : path) + "/" + $0 }
        }
        await session.close()
        return text
    }
}
