import DockerEngine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport
import Testing

/// Rollouts with the real binaries: two masters and four agents. A version bump goes host by
/// host, each batch only once the one before runs; the leader dies mid-rollout and the other
/// master finishes it; an image that cannot be pulled halts the rollout after its first batch
/// and rolls that host back, with the reason in `helios status` and `/v1/sync`.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled && TestServices.registryEnabled,
                "needs ZooKeeper, Docker and the test registry: run `make test`"))
struct RolloutTests {
    static let hosts = (1...4).map { "h\($0)" }

    static func job(version: String, image: String = TestServices.image) -> String {
        """
        kind: Job
        name: web
        version: "\(version)"
        image: \(image)
        command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
        """
    }

    static func deployment(hosts: [String]) -> String {
        """
        kind: Deployment
        name: web
        job: web
        hosts: [\(hosts.joined(separator: ", "))]
        rollout: { parallelism: 1, minHealthy: 2s, timeout: 30s, autoRollback: true }
        """
    }

    /// host → (job id of its `web` task, the agent's state of it), as the master serves them.
    static func tasks(_ url: String) async -> [String: (job: String, state: String)] {
        guard let (body, _) = try? await URLSession.shared.data(from: URL(string: url + "/v1/hosts")!),
              let hosts = try? JSONSerialization.jsonObject(with: body) as? [[String: Any]] else { return [:] }
        var result: [String: (job: String, state: String)] = [:]
        for host in hosts {
            guard let name = host["name"] as? String,
                  let task = (host["tasks"] as? [[String: Any]])?.first(where: { $0["deployment"] as? String == "web" }),
                  let job = task["jobId"] as? String else { continue }
            result[name] = (job, ((task["status"] as? [String: Any])?["state"] as? String) ?? "PENDING")
        }
        return result
    }

    static func json(_ url: String) async -> [String: Any]? {
        guard let (body, _) = try? await URLSession.shared.data(from: URL(string: url)!) else { return nil }
        return try? JSONSerialization.jsonObject(with: body) as? [String: Any]
    }

    /// Every container of `hosts`, running or not.
    static func containers(of hosts: [String], _ docker: DockerClient) async throws -> [ContainerSummary] {
        var all: [ContainerSummary] = []
        for host in hosts { all += try await docker.listContainers(all: true, labels: ["helios.host=\(host)"]) }
        return all
    }

    static func sync(_ url: String) async throws {
        var request = URLRequest(url: URL(string: url + "/v1/sync")!)
        request.httpMethod = "POST"
        _ = try await URLSession.shared.data(for: request)
    }

    @Test func batchesGateOnRunningSurviveAFailoverAndRollBackABrokenImage() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let dockerSocket = try TestServices.requireDocker()
        let docker = DockerClient(socketPath: dockerSocket)
        let registry = try TestServices.requireRegistry()
        let git = try GitFixture()
        let directory = try TemporaryDirectory("rollout")
        let chroot = TestServices.uniqueChroot("rollout")
        let prefix = "ro\(UUID().uuidString.prefix(6).lowercased())-"
        let hosts = Self.hosts.map { prefix + $0 }
        defer { git.remove(); directory.remove() }
        try git.commit(["web.yaml": Self.job(version: "1"), "web-deployment.yaml": Self.deployment(hosts: hosts)],
                       message: "web 1")

        func master(_ name: String) throws -> (Daemon, String) {
            let port = try freeLoopbackPort()
            return (try Daemon(name: name, executable: heliosExecutable, arguments: [
                "master", "--zk", zooKeeper, "--chroot", chroot, "--repo", git.remote, "--poll", "1s",
                "--state-dir", directory.path + "/" + name, "--http", "127.0.0.1:\(port)", "--session-timeout", "4s",
            ], directory: directory), "http://127.0.0.1:\(port)")
        }
        let (first, firstURL) = try master("first")
        #expect(await eventually { (await Self.json(firstURL + "/v1/masters"))?["leading"] as? Bool == true })
        let (second, secondURL) = try master("second")
        var agents: [Daemon] = []
        for host in hosts {
            let range = TestServices.portRange()
            agents.append(try Daemon(name: host, executable: heliosExecutable, arguments: [
                "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", host, "--docker-socket", dockerSocket,
                "--state-dir", directory.path + "/" + host, "--port-range", "\(range.lowerBound)-\(range.upperBound)",
            ], directory: directory))
        }
        func containers() async throws -> [ContainerSummary] { try await Self.containers(of: hosts, docker) }
        func rollout() async -> [String: Any]? {
            (await Self.json(secondURL + "/v1/deployments/web"))?["rollout"] as? [String: Any]
        }
        func logs() -> String { ([first, second] + agents).map { "--- \($0.name) ---\n\($0.log)" }.joined(separator: "\n") }

        do {
            // Version 1 reaches all four (written at once if their agents had not registered yet).
            let v1Done = await eventually(timeout: .seconds(90)) {
                let tasks = await Self.tasks(secondURL)
                let state = await rollout()?["state"] as? String
                return (state == nil || state == "DONE") && tasks.count == 4
                    && tasks.values.allSatisfy { $0.job.hasPrefix("web:1:") && $0.state == "RUNNING" }
            }
            try #require(v1Done, "\(logs())")

            // Version 2: watch each host get its task and run it.
            try git.commit(["web.yaml": Self.job(version: "2")], message: "web 2")
            try await Self.sync(secondURL)
            var written: [String: ContinuousClock.Instant] = [:]
            var running: [String: ContinuousClock.Instant] = [:]
            var killed = false
            let deadline = ContinuousClock.now + .seconds(120)
            while running.count < 4 && ContinuousClock.now < deadline {
                let now = ContinuousClock.now
                for (host, task) in await Self.tasks(secondURL) where task.job.hasPrefix("web:2:") {
                    if written[host] == nil { written[host] = now }
                    if task.state == "RUNNING" && running[host] == nil { running[host] = now }
                }
                // The leader dies once the second batch is under way.
                if !killed && written.count >= 2 {
                    first.kill()
                    killed = true
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(killed)
            #expect(running.count == 4, "web 2 did not reach every host: \(running.keys.sorted())\n\(logs())")
            // Batch order h1, h2, h3, h4, each written only after the one before ran (minHealthy 2 s: the gap is well over the sampling interval).
            let order = hosts.sorted { (written[$0] ?? deadline) < (written[$1] ?? deadline) }
            #expect(order == hosts, "tasks written in the order \(order)")
            for (before, after) in zip(hosts, hosts.dropFirst()) {
                // Seen in the same sample is fine: one reply says both, so a late sighting of
                // RUNNING (a slow sample under load) can make them equal, never reversed.
                if let ran = running[before], let next = written[after] {
                    #expect(next >= ran, "\(after) got its task before \(before) ran")
                }
            }
            #expect(await eventually { await rollout()?["state"] as? String == "DONE" }, "\(logs())")
            #expect((await Self.json(secondURL + "/v1/masters"))?["leading"] as? Bool == true)
            #expect(second.log.contains("rollout batch"), "the second master never moved the rollout on")

            // Version 3's image is nowhere: the first host fails, the rollout stops and goes back.
            try git.commit(["web.yaml": Self.job(version: "3", image: "\(registry.address)/helios-test/absent:3")],
                           message: "web 3, broken")
            try await Self.sync(secondURL)
            let rolledBack = await eventually(timeout: .seconds(60)) {
                await rollout()?["state"] as? String == "ROLLED_BACK"
            }
            #expect(rolledBack, "\(logs())")
            let error = (await rollout())?["error"] as? String ?? ""
            #expect(error.contains("host \(hosts[0])") && error.contains("IMAGE_"), "\(error)")
            let back = await eventually {
                let tasks = await Self.tasks(secondURL)
                return tasks.count == 4 && tasks.values.allSatisfy { $0.job.hasPrefix("web:2:") && $0.state == "RUNNING" }
            }
            let afterRollback = await Self.tasks(secondURL)
            #expect(back, "\(afterRollback)")
            let record = await Self.json(secondURL + "/v1/sync")
            #expect(record?["status"] as? String == "FAILED")
            #expect((record?["summary"] as? String)?.contains(hosts[0]) == true, "\(String(describing: record))")
            let status = try execute([heliosExecutable.path, "status", "--master", secondURL], environment: ["NO_COLOR": "1"])
            #expect(status.output.contains("ROLLED_BACK") && status.output.contains("sync: FAILED"), "\(status.output)")
            // The other hosts never saw version 3.
            #expect(try await containers().allSatisfy { !($0.labels["helios.job"] ?? "").hasPrefix("web:3:") })
        } catch {
            Issue.record("\(error)\n\(logs())")
        }
        await second.stop()
        for agent in agents { await agent.stop() }
        for container in try await containers() { try? await docker.removeContainer(container.id, force: true) }
    }
}
