import DockerEngine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport
import Testing

/// The whole path with the real binary: a commit to a git repository of manifests makes a
/// container run on an agent's host, a version bump replaces it, a deletion removes it.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct WalkingSkeletonTests {
    static func job(version: String) -> String {
        """
        kind: Job
        name: web
        version: "\(version)"
        image: \(TestServices.image)
        # PID 1 ignores SIGTERM unless it traps it: stop at once, as a real service would.
        command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
        """
    }

    static func deployment(host: String) -> String {
        """
        kind: Deployment
        name: web-prod
        job: web
        hosts: [\(host)]
        """
    }

    @Test func commitRunsAContainerAVersionBumpReplacesItAndDeletionRemovesIt() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let git = try GitFixture()
        let directory = try TemporaryDirectory("system")
        let host = "agent-\(UUID().uuidString.prefix(8).lowercased())"
        let chroot = TestServices.uniqueChroot("system")
        let port = try freeLoopbackPort()
        defer { git.remove(); directory.remove() }

        try git.commit(["jobs/web.yaml": Self.job(version: "1"), "deployments/web.yaml": Self.deployment(host: host)],
                       message: "deploy web 1")
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", chroot, "--repo", git.remote, "--poll", "500ms",
            "--state-dir", directory.path + "/master", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        // The agent as hosts run it: the helios-agent binary (`helios agent` elsewhere).
        let agent = try Daemon(name: "agent", executable: heliosAgentExecutable, arguments: [
            "--zk", zooKeeper, "--chroot", chroot, "--name", host,
            "--docker-socket", try TestServices.requireDocker(), "--reconcile-interval", "5s",
            "--state-dir", directory.path + "/agent",
        ], directory: directory)

        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }
        func runningVersions() async throws -> [String] {
            try await containers().filter { $0.state == .running }
                .compactMap { $0.labels["helios.job"]?.split(separator: ":").dropFirst().first.map(String.init) }
        }

        do {
            // Push → the container runs on the agent's host.
            let running = try await eventually { try await runningVersions() == ["1"] }
            #expect(running, "web 1 never ran")
            let first = try #require(try await containers().first)
            #expect(first.labels["helios.deployment"] == "web-prod")

            // Version bump → the new container runs; the old one is stopped and kept for inspection.
            try git.commit(["jobs/web.yaml": Self.job(version: "2")], message: "web 2")
            let replaced = try await eventually {
                let running = try await containers().filter { $0.state == .running }.map(\.id)
                let versions = try await runningVersions()
                let old = try await containers().first { $0.id == first.id }
                return running.count == 1 && running != [first.id] && versions == ["2"] && old?.state == .exited
            }
            let afterBump = try await containers()
            #expect(replaced, "web 2 never replaced web 1: \(afterBump)")

            // The sync record tells what was applied: SYNCED once the rollout is done.
            let head = try git.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
            func record() async throws -> [String: Any]? {
                let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/v1/sync")!)
                return try JSONSerialization.jsonObject(with: body) as? [String: Any]
            }
            #expect(try await eventually { try await record()?["status"] as? String == "SYNCED" })
            #expect(try await record()?["lastAppliedRevision"] as? String == head)

            // Delete the deployment → nothing runs; only the last container stays, stopped.
            try git.commit(["deployments/web.yaml": nil], message: "undeploy web")
            let gone = try await eventually {
                let left = try await containers()
                return left.count == 1 && left[0].id != first.id && left[0].state == .exited
            }
            let afterDelete = try await containers()
            #expect(gone, "web's container outlived its deployment: \(afterDelete)")
        } catch {
            Issue.record("\(error)\n--- master ---\n\(master.log)\n--- agent ---\n\(agent.log)")
        }

        await master.stop()
        await agent.stop()
        for container in try await containers() { try? await docker.removeContainer(container.id, force: true) }
        #expect(master.exitStatus == 0, "master did not stop cleanly:\n\(master.log)")
        #expect(agent.exitStatus == 0, "agent did not stop cleanly:\n\(agent.log)")
    }
}
