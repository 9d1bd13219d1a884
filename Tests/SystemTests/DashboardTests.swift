import DockerEngine
import Foundation
import HeliosTestSupport
import Testing

/// The dashboard in a real browser (headless Chromium through Selenium, Tests/Browser/dashboard.py)
/// against a real cluster — ZooKeeper, a master following a git repository, two agents, Docker —
/// in each state a user must read off it: synced, rolling out (watched batch by batch with the
/// page open), a host DOWN, a refused commit, a rolled-back rollout. Every page is also loaded
/// with JavaScript off, passes an accessibility pass, and leaves a screenshot in the artifacts.
@Suite(.enabled(if: TestServices.zooKeeperEnabled && TestServices.dockerEnabled,
                "needs ZooKeeper and Docker: run `make test`"))
struct DashboardTests {
    static let artifacts = FileManager.default.temporaryDirectory.appendingPathComponent("helios-dashboard-artifacts").path

    static func job(_ version: Int, image: String = TestServices.image) -> String {
        """
        kind: Job
        name: web
        version: "\(version)"
        image: \(image)
        command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
        """
    }

    static func deployment(_ hosts: [String]) -> String {
        """
        kind: Deployment
        name: web
        job: web
        hosts: [\(hosts.joined(separator: ", "))]
        rollout: { parallelism: 1, minHealthy: 2s, timeout: 20s, autoRollback: true }
        """
    }

    /// Runs the browser script; its failures become this test's.
    func browse(_ base: String, token: String, _ expectations: [String: Any]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["/usr/bin/python3", GoldenExampleTests.examples.deletingLastPathComponent().path + "/Tests/Browser/dashboard.py",
                             base, token, Self.artifacts,
                             String(decoding: try JSONSerialization.data(withJSONObject: expectations), as: UTF8.self)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    func finish(_ process: Process, _ what: String) async {
        let output = await output(of: process)
        #expect(process.terminationStatus == 0, "\(what): \(output)")
    }

    @Test func theDashboardShowsEachStateOfTheClusterInABrowser() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            if TestServices.isCI { Issue.record("chromium-driver is not installed (make deps installs it)") }
            return
        }
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let zooKeeper = try TestServices.requireZooKeeper()
        let docker = DockerClient(socketPath: try TestServices.requireDocker())
        let directory = try TemporaryDirectory("dashboard")
        let git = try GitFixture()
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let hosts = ["ui-\(suffix)-a", "ui-\(suffix)-b"]
        let chroot = TestServices.uniqueChroot("dashboard")
        let port = try freeLoopbackPort()
        let base = "http://127.0.0.1:\(port)"
        defer { git.remove(); directory.remove() }
        let token = try execute([heliosExecutable.path, "token", "create", "ops", "--scopes", "deploy", "--file", directory.path + "/tokens"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)

        try git.commit(["web.yaml": Self.job(1) + "\n---\n" + Self.deployment(hosts)], message: "web 1")
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", zooKeeper, "--chroot", chroot, "--repo", git.remote, "--poll", "500ms",
            "--state-dir", directory.path + "/master", "--http", "127.0.0.1:\(port)", "--api-tokens", directory.path + "/tokens",
            "--repo-browse-url", "https://git.example.com/ops/blob/{revision}/{file}#L{line}",
        ], directory: directory)
        var agents: [Daemon] = []
        for (index, host) in hosts.enumerated() {
            agents.append(try Daemon(name: host, executable: heliosExecutable, arguments: [
                "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", host, "--docker-socket", try TestServices.requireDocker(),
                "--reconcile-interval", "5s", "--session-timeout", "4s", "--state-dir", directory.path + "/agent-\(index)",
                "--port-range", "\(TestServices.portRange().lowerBound)-\(TestServices.portRange().upperBound)",
            ], directory: directory))
        }
        func rolloutStatus() -> [String: Any]? {
            let reply = try? APISecurityTests.call("GET", base + "/v1/deployments/web", headers: ["Authorization: Bearer \(token)"])
            return (reply.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] }?["rollout"]
                as? [String: Any])
        }
        func rollout() async -> String? { rolloutStatus()?["state"] as? String }
        do {
            #expect(await eventually(timeout: .seconds(90)) { await rollout() == "DONE" }, "web 1 never rolled out: \(master.log.suffix(2000))")

            // Synced; then a bump watched with the page open, batch by batch.
            let watcher = try browse(base, token: token, [
                "name": "rollout",
                "watch": ["path": "/ui/deployments/web", "ready": Self.artifacts + "/ready-\(suffix)",
                          "steps": [["rollout-batch", "batch 1 of 2"], ["rollout-batch", "batch 2 of 2"], ["rollout-state", "DONE"]]],
                "pages": [["path": "/ui/deployments/web", "tests": ["rollout-state": "DONE", "deployment-job": "web:2",
                                                                      "past-rollout-state": "DONE"],
                           "text": ["Commits that changed it", "Earlier rollouts"]]],
            ] as [String: Any])
            #expect(await eventually(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: Self.artifacts + "/ready-\(suffix)") })
            let second = try git.commit(["web.yaml": Self.job(2) + "\n---\n" + Self.deployment(hosts)], message: "web 2")
            await finish(watcher, "watching the rollout")

            await finish(try browse(base, token: token, [
                "name": "synced",
                "pages": [
                    ["path": "/ui", "tests": ["sync-status": "SYNCED", "hosts-up": "2", "hosts-down": "0", "deployments-in-sync": "1"]],
                    ["path": "/ui/deployments", "text": ["web", hosts[0], hosts[1], "RUNNING"]],
                    ["path": "/ui/hosts", "text": [hosts[0], "UP"]],
                    ["path": "/ui/hosts/\(hosts[0])", "tests": ["host-state": "UP"], "text": ["web:2", "helios ", "Docker API "]],
                    ["path": "/ui/commits", "tests": ["commit-outcome": "1 DONE"], "text": ["applied"], "links": ["/ui/commits/\(second)"]],
                    ["path": "/ui/commits/\(second)", "tests": ["plan-summary": "0 to add, 1 to change, 0 to remove, 1 to replace.",
                                                                "commit-outcome": "1 DONE"],
                     "text": ["job web:2:", "deployment web", "job web:1:"]],
                ],
            ] as [String: Any]), "synced")

            // A host DOWN.
            agents[1].kill()
            #expect(await eventually(timeout: .seconds(60)) {
                (try? APISecurityTests.call("GET", base + "/v1/hosts/\(hosts[1])", headers: ["Authorization: Bearer \(token)"]))?.body
                    .contains("\"up\":false") == true
            })
            await finish(try browse(base, token: token, [
                "name": "host-down",
                "pages": [["path": "/ui", "tests": ["hosts-up": "1", "hosts-down": "1"]],
                          ["path": "/ui/hosts/\(hosts[1])", "tests": ["host-state": "DOWN"]],
                          ["path": "/ui/deployments", "text": ["DOWN"]]],
            ] as [String: Any]), "a host DOWN")

            // A refused commit, with its diagnostics linked to the repository browser.
            let broken = try git.commit(["web.yaml": Self.job(3).replacingOccurrences(of: "image:", with: "imagee:")], message: "broken")
            #expect(await eventually(timeout: .seconds(30)) {
                (try? APISecurityTests.call("GET", base + "/v1/sync", headers: ["Authorization: Bearer \(token)"]))?.body.contains(broken) == true
            })
            await finish(try browse(base, token: token, [
                "name": "refused",
                "pages": [["path": "/ui", "tests": ["sync-status": "FAILED", "sync-reason": "InvalidManifests",
                                                     "sync-attempted": String(broken.prefix(12))],
                           "text": ["web.yaml:"], "links": ["https://git.example.com/ops/blob/\(broken)/web.yaml#L"]],
                          ["path": "/ui/commits", "text": ["Refused commit", "web.yaml:"]]],
            ] as [String: Any]), "a refused commit")

            // A rollout that fails (an image no registry has) and is rolled back.
            agents[1] = try Daemon(name: hosts[1] + "-again", executable: heliosExecutable, arguments: [
                "agent", "--zk", zooKeeper, "--chroot", chroot, "--name", hosts[1], "--docker-socket", try TestServices.requireDocker(),
                "--reconcile-interval", "5s", "--session-timeout", "4s", "--state-dir", directory.path + "/agent-1",
            ], directory: directory)
            try git.commit(["web.yaml": Self.job(4, image: "127.0.0.1:1/helios/missing:4") + "\n---\n" + Self.deployment(hosts)],
                           message: "web 4, an image nobody has")
            #expect(await eventually(timeout: .seconds(120)) { await rollout() == "ROLLED_BACK" }, "\(master.log.suffix(2000))")
            // It keeps the rollouts before it: web 1 and web 2, both DONE.
            let earlier = (rolloutStatus()?["history"] as? [[String: Any]] ?? []).map { "\($0["jobId"] ?? "") \($0["state"] ?? "")" }
            #expect(earlier.count == 2 && earlier.allSatisfy { $0.hasSuffix(" DONE") }, "earlier rollouts: \(earlier); \(master.log.suffix(6000))")
            await finish(try browse(base, token: token, [
                "name": "rolled-back",
                "pages": [["path": "/ui/deployments/web", "tests": ["rollout-state": "ROLLED_BACK", "rollout-batch": "failed in batch 1 of 2"],
                           "text": ["IMAGE_PULL_FAILED", "rolled back to web:2"]],
                          ["path": "/ui", "tests": ["deployments-failed": "1"], "text": ["Failed rollouts"]],
                          ["path": "/ui/commits", "tests": ["commit-outcome": "1 ROLLED_BACK web"]]],
            ] as [String: Any]), "a rolled-back rollout")
        } catch {
            Issue.record("\(error)")
        }
        for agent in agents { await agent.stop() }
        await master.stop()
        for host in hosts {
            for container in (try? await docker.listContainers(all: true, labels: ["helios.host=\(host)"])) ?? [] {
                try? await docker.removeContainer(container.id, force: true)
            }
        }
    }
}
