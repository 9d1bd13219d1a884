// The deploy benchmark: commit → RUNNING. Real `helios master` and `helios agent` processes
// (the release binary next to this one), a bare git repository on disk, ZooKeeper and dockerd.
// Each sample commits and pushes a version bump and times it until the agent reports the new
// job RUNNING — once with the webhook (`POST /v1/sync` right after the push), once with a 1 s
// poll — next to `docker run -d` of the same container measured in the same run.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosModel
import HeliosStore

enum DeployBenchmark {
    static let samples = Int(ProcessInfo.processInfo.environment["BENCH_SAMPLES"] ?? "") ?? 10
    static let image = AgentBenchmark.image
    static let command = "trap 'exit 0' TERM; while true; do sleep 1; done"

    static func run(servers: String, dockerSocket: String) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("helios-bench-deploy-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let host = "deploy-\(UUID().uuidString.prefix(8).lowercased())"
        let chroot = "/\(host)"
        print("""

            Deploy benchmark: commit → RUNNING on host \(host), \(samples) version bumps per mode,
            ZooKeeper at \(servers), Docker at \(dockerSocket)

            """)
        let raw = try rawDockerRuns(dockerSocket: dockerSocket, label: host)

        // A bare repository the master follows, and a clone to commit in.
        let bare = work.appendingPathComponent("manifests.git")
        let clone = work.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try shell(["git", "init", "-q", "--bare", "-b", "main", bare.path], in: work)
        try shell(["git", "init", "-q", "-b", "main", clone.path], in: work)
        try shell(["git", "remote", "add", "origin", bare.path], in: clone)
        var version = 0
        func push(bump: Bool) throws {
            if bump { version += 1 }
            let manifests = """
                kind: Job
                name: bench
                version: "\(version)"
                image: \(image)
                command: [sh, -c, "\(command)"]
                ---
                kind: Deployment
                name: bench
                job: bench
                hosts: [\(host)]
                """
            try Data(manifests.utf8).write(to: clone.appendingPathComponent("bench.yaml"))
            try shell(["git", "add", "-A"], in: clone)
            try shell(["git", "-c", "user.name=bench", "-c", "user.email=bench@helios.invalid", "commit", "-qm", "v\(version)"], in: clone)
            try shell(["git", "push", "-q", "origin", "HEAD:main"], in: clone)
        }

        let store = try await HeliosStore.connect(servers: servers, chroot: chroot)
        let agent = try AgentBenchmark.startAgent(host: host, servers: servers, dockerSocket: dockerSocket, chroot: chroot)
        defer { agent.terminate() }
        try push(bump: true)

        var results: [(String, [Double])] = []
        for (mode, poll) in [("webhook", "10m"), ("poll 1s", "1s")] {
            let port = try freePort()
            let master = try startMaster(servers: servers, chroot: chroot, repo: bare.path, poll: poll, port: port,
                                         stateDirectory: work.appendingPathComponent("master-\(poll)").path)
            // Warm up: the master has synced the head and the agent runs it.
            try await sync(port: port)
            try await waitUntilRunning(version: version, host: host, store: store)
            var timings: [Double] = []
            for _ in 0..<samples {
                try push(bump: true)
                let pushed = ContinuousClock.now
                if mode == "webhook" { try await sync(port: port) }
                try await waitUntilRunning(version: version, host: host, store: store)
                timings.append(milliseconds(since: pushed))
            }
            results.append((mode, timings))
            master.terminate()
            master.waitUntilExit()
        }

        print("                                    median      best     worst")
        print(String(format: "raw docker run -d                %8.1f ms %8.1f ms %8.1f ms",
                     AgentBenchmark.median(raw), raw.min()!, raw.max()!))
        for (mode, timings) in results {
            let median = AgentBenchmark.median(timings)
            let label = "commit → RUNNING, \(mode)".padding(toLength: 31, withPad: " ", startingAt: 0)
            print(label + String(format: " %8.1f ms %8.1f ms %8.1f ms  (%.1f× raw)",
                                 median, timings.min()!, timings.max()!, median / AgentBenchmark.median(raw)))
        }

        agent.terminate()
        agent.waitUntilExit()
        try? shell(["sh", "-c", "docker ps -aq --filter label=helios.host=\(host) | xargs -r docker rm -f"], in: work)
        await store.close()
    }

    /// `docker run -d` of the same container, by the docker CLI: milliseconds each.
    static func rawDockerRuns(dockerSocket: String, label: String) throws -> [Double] {
        var timings: [Double] = []
        let directory = FileManager.default.temporaryDirectory
        for index in 0..<samples {
            let start = ContinuousClock.now
            try shell(["docker", "-H", "unix://\(dockerSocket)", "run", "-d", "--name", "\(label)-raw-\(index)",
                       "--label", "helios.bench=\(label)", image, "sh", "-c", command], in: directory)
            timings.append(milliseconds(since: start))
        }
        try shell(["sh", "-c", "docker -H unix://\(dockerSocket) ps -aq --filter label=helios.bench=\(label) | xargs -r docker -H unix://\(dockerSocket) rm -f"],
                  in: directory)
        return timings
    }

    static func startMaster(servers: String, chroot: String, repo: String, poll: String, port: Int,
                            stateDirectory: String) throws -> Process {
        let process = Process()
        process.executableURL = AgentBenchmark.heliosBinary
        process.arguments = ["master", "--zk", servers, "--chroot", chroot, "--repo", repo, "--poll", poll,
                             "--state-dir", stateDirectory, "--http", "127.0.0.1:\(port)", "--log-level", "warning"]
        try process.run()
        return process
    }

    /// `POST /v1/sync`, retried until the master answers.
    static func sync(port: Int) async throws {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sync")!)
        request.httpMethod = "POST"
        for _ in 0..<200 {
            if let (_, response) = try? await URLSession.shared.data(for: request),
               (response as? HTTPURLResponse)?.statusCode == 202 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        fatalError("the master on port \(port) never answered")
    }

    /// Polls the host's statuses every 5 ms until job `bench` at `version` is RUNNING.
    static func waitUntilRunning(version: Int, host: String, store: HeliosStore) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let statuses = (try? await store.taskStatuses(host: host)) ?? [:]
            if statuses.contains(where: { $0.key.name == "bench" && $0.key.version == "\(version)" && $0.value.state == .running }) {
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        fatalError("bench version \(version) not RUNNING after 120 s")
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
