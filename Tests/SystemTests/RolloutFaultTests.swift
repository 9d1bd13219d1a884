import DockerEngine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport
import Testing

/// Rollouts meeting the cluster as it is, with the real binaries: a host whose agent is stopped
/// is skipped (the rollout finishes on the others, is not rolled back, and the host converges
/// once its agent is back); a deployment stopped mid-rollout closes the rollout, and drift is
/// then detected and healed again.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct RolloutFaultTests {
    static func deployment(hosts: [String], goal: String = "start", minHealthy: String = "0s") -> String {
        """
        kind: Deployment
        name: web
        job: web
        hosts: [\(hosts.joined(separator: ", "))]
        goal: \(goal)
        rollout: { parallelism: 1, minHealthy: \(minHealthy), timeout: 40s, autoRollback: true }
        """
    }

    @Test func aDownHostIsSkippedAndConvergesAndAStopMidRolloutClosesIt() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let dockerSocket = try TestServices.requireDocker()
        let docker = DockerClient(socketPath: dockerSocket)
        let git = try GitFixture()
        let directory = try TemporaryDirectory("rollout-down")
        let chroot = TestServices.uniqueChroot("rollout-down")
        let prefix = "rd\(UUID().uuidString.prefix(6).lowercased())-"
        let hosts = (1...3).map { "\(prefix)h\($0)" }
        defer { git.remove(); directory.remove() }
        try git.commit(["web.yaml": RolloutTests.job(version: "1"), "web-deployment.yaml": Self.deployment(hosts: hosts)],
                       message: "web 1")
        let port = try freeLoopbackPort()
        let url = "http://127.0.0.1:\(port)"
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", chroot, "--repo", git.remote, "--poll", "1s",
            "--state-dir", directory.path + "/master", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        var ranges: [String: ClosedRange<Int>] = [:]
        func agent(_ host: String) throws -> Daemon {
            let range = ranges[host] ?? TestServices.portRange()
            ranges[host] = range
            return try Daemon(name: host, executable: heliosExecutable, arguments: [
                "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", host, "--docker-socket", dockerSocket,
                "--state-dir", directory.path + "/" + host, "--port-range", "\(range.lowerBound)-\(range.upperBound)",
            ], directory: directory)
        }
        var agents = try hosts.map(agent)
        func rollout() async -> [String: Any]? {
            (await RolloutTests.json(url + "/v1/deployments/web"))?["rollout"] as? [String: Any]
        }
        func logs() -> String { ([master] + agents).map { "--- \($0.name) ---\n\($0.log)" }.joined(separator: "\n") }
        func containers() async throws -> [ContainerSummary] { try await RolloutTests.containers(of: hosts, docker) }

        do {
            let v1 = await eventually(timeout: .seconds(90)) {
                let tasks = await RolloutTests.tasks(url)
                let state = await rollout()?["state"] as? String
                return (state == nil || state == "DONE") && tasks.count == 3
                    && tasks.values.allSatisfy { $0.job.hasPrefix("web:1:") && $0.state == "RUNNING" }
            }
            try #require(v1, "\(logs())")

            // h3's agent stops: the host is DOWN. Version 2 rolls out on h1 and h2 and is done.
            await agents[2].stop()
            try #require(await eventually {
                let host = await RolloutTests.json(url + "/v1/hosts/\(hosts[2])")
                return host?["up"] as? Bool == false
            }, "\(logs())")
            try git.commit(["web.yaml": RolloutTests.job(version: "2")], message: "web 2")
            try await RolloutTests.sync(url)
            let done = await eventually(timeout: .seconds(35)) {
                let rollout = await rollout()
                return rollout?["state"] as? String == "DONE" && (rollout?["jobId"] as? String)?.hasPrefix("web:2:") == true
            }
            let status = await rollout()
            #expect(done, "\(String(describing: status))\n\(logs())")
            #expect(status?["skipped"] as? [String] == [hosts[2]], "\(String(describing: status))")
            #expect((status?["jobId"] as? String)?.hasPrefix("web:2:") == true, "rolled back: \(String(describing: status))")
            let synced = await RolloutTests.json(url + "/v1/sync")
            #expect(synced?["status"] as? String == "SYNCED", "\(String(describing: synced))")
            let shown = try execute([heliosExecutable.path, "rollout", "status", "web", "--master", url], environment: ["NO_COLOR": "1"])
            #expect(shown.output.contains("skipped") && shown.output.contains(hosts[2]), "\(shown.output)")

            // h3's agent comes back: it converges on version 2.
            agents[2] = try agent(hosts[2])
            let converged = await eventually(timeout: .seconds(60)) {
                let tasks = await RolloutTests.tasks(url)
                return tasks.count == 3 && tasks.values.allSatisfy { $0.job.hasPrefix("web:2:") && $0.state == "RUNNING" }
            }
            let tasks = await RolloutTests.tasks(url)
            #expect(converged, "\(tasks)\n\(logs())")

            // Version 3 waits a long minHealthy in its first batch; the deployment is stopped meanwhile.
            try git.commit(["web.yaml": RolloutTests.job(version: "3"),
                            "web-deployment.yaml": Self.deployment(hosts: hosts, minHealthy: "10m")], message: "web 3")
            try await RolloutTests.sync(url)
            try #require(await eventually { (await rollout()?["jobId"] as? String)?.hasPrefix("web:3:") == true }, "\(logs())")
            try git.commit(["web-deployment.yaml": Self.deployment(hosts: hosts, goal: "stop", minHealthy: "10m")],
                           message: "web stopped")
            try await RolloutTests.sync(url)
            let closed = await eventually { await rollout()?["state"] as? String == "SUPERSEDED" }
            let superseded = await rollout()
            #expect(closed, "\(String(describing: superseded))\n\(logs())")
            #expect((superseded?["error"] as? String)?.contains("stopped") == true)

            // Drift detection works again: a forced change outside git is reverted.
            try directory.write(RolloutTests.job(version: "3"), to: "forced/web.yaml")
            try directory.write(Self.deployment(hosts: hosts, goal: "start"), to: "forced/web-deployment.yaml")
            let forced = try execute([heliosExecutable.path, "apply", "--master", url, "--force", "--detach"],
                                     in: directory.path + "/forced", environment: ["NO_COLOR": "1"])
            #expect(forced.status == 0, "\(forced.errors)")
            let healed = await eventually(timeout: .seconds(30)) {
                let record = await RolloutTests.json(url + "/v1/sync")
                let deployment = (await RolloutTests.json(url + "/v1/deployments/web"))?["deployment"] as? [String: Any]
                return record?["reason"] as? String == "SelfHealed" && deployment?["goal"] as? String == "stop"
            }
            let record = await RolloutTests.json(url + "/v1/sync")
            #expect(healed, "\(String(describing: record))\n\(logs())")
        } catch {
            Issue.record("\(error)\n\(logs())")
        }
        await master.stop()
        for agent in agents { await agent.stop() }
        for container in try await containers() { try? await docker.removeContainer(container.id, force: true) }
    }
}
