import DockerEngine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport
import Testing

/// The online CLI against a CLI-driven cluster (a master without `--repo`) and a real agent:
/// apply, the live views, a saved plan refused once the cluster moved, and a git-driven
/// cluster refusing an apply without `--force`.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct OnlineCLITests {
    static func job(version: String) -> String {
        """
        kind: Job
        name: api
        version: "\(version)"
        image: \(TestServices.image)
        command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
        """
    }

    func helios(_ arguments: [String], in directory: String) throws -> CommandResult {
        try execute([heliosExecutable.path] + arguments, in: directory, environment: ["NO_COLOR": "1"])
    }

    @Test func applyThroughTheMasterAndReadTheClusterBack() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let directory = try TemporaryDirectory("online")
        let manifests = directory.path + "/manifests"
        let host = "cli-\(UUID().uuidString.prefix(8).lowercased())"
        let chroot = TestServices.uniqueChroot("online")
        let port = try freeLoopbackPort()
        let url = "http://127.0.0.1:\(port)"
        defer { directory.remove() }
        try directory.write(Self.job(version: "1"), to: "manifests/api.yaml")
        try directory.write("kind: Deployment\nname: api\njob: api\nhosts: [\(host)]\n", to: "manifests/api-deployment.yaml")

        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", chroot, "--state-dir", directory.path + "/master",
            "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        let agent = try Daemon(name: "agent", executable: heliosExecutable, arguments: [
            "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", host, "--labels", "zone=a",
            "--docker-socket", try TestServices.requireDocker(), "--state-dir", directory.path + "/agent",
            "--port-range", "\(TestServices.portRange().lowerBound)-\(TestServices.portRange().upperBound)",
        ], directory: directory)
        func containers() async throws -> [ContainerSummary] {
            try await docker.listContainers(all: true, labels: ["helios.host=\(host)"])
        }
        #expect(await eventually { (try? helios(["hosts", "--master", url], in: manifests).status) == 0 })

        // Apply through the master: the agent runs it, and every view shows it.
        let applied = try helios(["apply", "--master", url], in: manifests)
        #expect(applied.status == 0, "\(applied.errors)\n\(master.log)")
        #expect(applied.output.contains("Applied at check index"), "\(applied.output)")
        // It followed the rollout it started to its end.
        #expect(applied.output.contains("api: DONE to api:1:"), "\(applied.output)")
        let running = try await eventually {
            try helios(["status", "--master", url], in: manifests).output.contains("RUNNING")
        }
        #expect(running, "\(agent.log)")
        let status = try helios(["status", "--master", url], in: manifests).output
        #expect(status.contains(host) && status.contains("api:1:") && status.contains("START"), "\(status)")
        let hosts = try helios(["hosts", "--master", url], in: manifests).output
        #expect(hosts.contains(host) && hosts.contains("UP") && hosts.contains("zone=a"), "\(hosts)")
        let deployments = try helios(["deployments", "--master", url], in: manifests).output
        #expect(deployments.contains("1 RUNNING"), "\(deployments)")
        let jobsJSON = try helios(["jobs", "--master", url, "--json"], in: manifests).output
        let jobs = try JSONSerialization.jsonObject(with: Data(jobsJSON.utf8)) as? [[String: Any]]
        let jobID = try #require(jobs?.first?["id"] as? String)
        let history = try helios(["history", jobID, "--master", url], in: manifests).output
        #expect(history.contains("CREATING") && history.contains("RUNNING"), "\(history)")
        let snapshot = try helios(["state", "pull", "--master", url], in: manifests)
        #expect(snapshot.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(snapshot.output.utf8)) as? [String: Any])?["checkIndex"] != nil)

        // A plan saved against the cluster applies while the cluster has not moved, and writes
        // exactly what `apply --dry-run` printed; it is refused once the cluster has moved.
        try directory.write(Self.job(version: "2"), to: "manifests/api.yaml")
        let saved = try helios(["plan", "--master", url, "--format", "json", "--out", directory.path + "/plan.json"], in: manifests)
        #expect(saved.status == 0, "\(saved.errors)")
        let dryRun = try helios(["apply", "--master", url, "--dry-run"], in: manifests)
        #expect(dryRun.status == 0, "\(dryRun.errors)")
        func steps(_ output: String) -> [String] {
            output.split(separator: "\n").drop { !$0.hasPrefix("Steps (") }.dropFirst()
                .prefix { $0.hasPrefix("  ") }.map(String.init)
        }
        #expect(steps(dryRun.output).contains { $0.contains("/status/deployments/api") }, "\(dryRun.output)")
        let accepted = try helios(["apply", "--master", url, "--plan", directory.path + "/plan.json", "--detach"], in: manifests)
        #expect(accepted.status == 0, "\(accepted.errors)\n\(master.log)")
        #expect(accepted.output.contains("Applied at check index"), "\(accepted.output)")
        #expect(steps(accepted.output) == steps(dryRun.output), "dry run:\n\(dryRun.output)\napplied:\n\(accepted.output)")
        #expect(!steps(dryRun.output).isEmpty)
        try directory.write(Self.job(version: "3"), to: "manifests/api.yaml")
        let moved = try helios(["apply", "--master", url, "--detach"], in: manifests) // the cluster moves on
        #expect(moved.status == 0 && !moved.output.contains("DONE"), "\(moved.output)")
        try directory.write(Self.job(version: "2"), to: "manifests/api.yaml")
        let stale = try helios(["apply", "--master", url, "--plan", directory.path + "/plan.json"], in: manifests)
        #expect(stale.status == 1)
        #expect(stale.errors.contains("stale"), "\(stale.errors)")
        #expect(try await eventually { try await containers().contains { $0.state == .running && $0.labels["helios.job"]?.hasPrefix("api:3:") == true } })

        // Invalid manifests: the master's diagnostics, nothing applied.
        try directory.write("kind: Job\nname: api\n", to: "manifests/api.yaml")
        let invalid = try helios(["apply", "--master", url], in: manifests)
        #expect(invalid.status == 1)
        #expect(invalid.errors.contains("api.yaml"), "\(invalid.errors)")

        await master.stop()
        await agent.stop()
        for container in try await containers() { try? await docker.removeContainer(container.id, force: true) }
    }

    @Test func aGitDrivenClusterRefusesAnApplyWithoutForceAndSelfHealsAForcedOne() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let git = try GitFixture()
        let directory = try TemporaryDirectory("online-git")
        let port = try freeLoopbackPort()
        let url = "http://127.0.0.1:\(port)"
        defer { git.remove(); directory.remove() }
        try git.commit(["api.yaml": Self.job(version: "1")], message: "api 1")
        // The master follows an http remote behind a password, read from a file.
        let server = try GitHTTPServer(serving: git.directory.path)
        defer { server.stop() }
        try directory.write(server.password + "\n", to: "git-password")
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", TestServices.uniqueChroot("online-git"), "--repo", server.url("remote.git"),
            "--git-username", server.user, "--git-password-file", directory.path + "/git-password",
            "--poll", "500ms", "--state-dir", directory.path + "/master", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        #expect(await eventually { (try? helios(["jobs", "--master", url], in: directory.path).output.contains("api:1:")) == true })

        try directory.write(Self.job(version: "9"), to: "manifests/api.yaml")
        let refused = try helios(["apply", "--master", url], in: directory.path + "/manifests")
        #expect(refused.status == 1)
        #expect(refused.errors.contains("follows git") && refused.errors.contains("--force"), "\(refused.errors)")
        let forced = try helios(["apply", "--master", url, "--force"], in: directory.path + "/manifests")
        #expect(forced.status == 0, "\(forced.errors)")
        #expect(forced.output.contains("api:9:"), "\(forced.output)")
        // The change is drift from git: self-heal (on by default) reverts it at the next poll.
        let healed = await eventually {
            let jobs = (try? helios(["jobs", "--master", url], in: directory.path).output) ?? ""
            return jobs.contains("api:1:") && !jobs.contains("api:9:")
        }
        #expect(healed, "\(master.log)")
        let status = try helios(["status", "--master", url], in: directory.path).output
        #expect(status.contains("self-healed"), "\(status)")

        // An invalid commit changes nothing; its diagnostics are served.
        try git.commit(["api.yaml": "kind: Job\nname: api\nversion: \"2\"\nimgae: busybox\n"], message: "typo")
        let failed = await eventually {
            let sync = try? await URLSession.shared.data(from: URL(string: url + "/v1/sync")!).0
            let text = sync.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return text.contains("\"FAILED\"") && text.contains("api.yaml:4:1: error: unknown field 'imgae'")
        }
        #expect(failed, "\(master.log)")
        let jobs = try helios(["jobs", "--master", url], in: directory.path).output
        #expect(jobs.contains("api:1:") && !jobs.contains("api:2:"), "\(jobs)")
        await master.stop()
    }
}
