// Docker Swarm on the same dockerd, through the Engine API as the CLI uses it (no CLI process
// per request, so Swarm pays no process start the Helios figures do not): a one-node swarm on
// loopback (`swarm init --advertise-addr 127.0.0.1`), left inactive afterwards — here on every
// thrown error, and by `make bench` (scripts/bench-swarm-leave.sh) when this process dies.
// A task counts as running from the moment its status says it became running (Swarm's own
// record, polled every 50 ms), as a Helios task from its agent's RUNNING write in ZooKeeper.
import DockerEngine
import Foundation
import HTTPTransport

enum SwarmBenchmark {
    static let samples = DeployBenchmark.samples
    static let image = AgentBenchmark.image
    static let command = ["sh", "-c", DeployBenchmark.command]
    /// Written while this benchmark's swarm exists: the Makefile's clean-up leaves it if this process could not.
    static var marker: URL { Results.directory.appendingPathComponent(".swarm-created") }

    struct API {
        let transport: HTTPTransport
        let version: String

        @discardableResult
        func send(_ method: String, _ path: String, _ body: Any? = nil) async throws -> Any? {
            let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
            let reply = try await transport.send(.init(method: method, path: "/v\(version)" + path, body: data,
                                                       headers: data == nil ? [] : ["Content-Type: application/json"],
                                                       timeout: .seconds(60)))
            guard (200..<300).contains(reply.status) else {
                throw BenchmarkError("\(method) \(path): \(reply.status) \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            }
            return reply.body.isEmpty ? nil : try JSONSerialization.jsonObject(with: reply.body, options: .fragmentsAllowed)
        }

        func state() async throws -> String {
            let info = try await send("GET", "/info") as? [String: Any]
            return (info?["Swarm"] as? [String: Any])?["LocalNodeState"] as? String ?? "unknown"
        }

        func createService(_ spec: [String: Any]) async throws -> String {
            let reply = try await send("POST", "/services/create", spec) as? [String: Any]
            guard let id = reply?["ID"] as? String else { throw BenchmarkError("no service id in \(String(describing: reply))") }
            return id
        }

        /// The service's spec changed by `change`, sent over its current version (read first, as the CLI does).
        func updateService(_ id: String, _ change: (inout [String: Any]) -> Void) async throws {
            let service = try await send("GET", "/services/\(id)") as! [String: Any]
            let version = (service["Version"] as! [String: Any])["Index"] as! Int
            var spec = service["Spec"] as! [String: Any]
            change(&spec)
            try await send("POST", "/services/\(id)/update?version=\(version)", spec)
        }

        /// The service moved to `version`: its tasks' `V` environment value.
        func updateService(_ id: String, toVersion version: Int) async throws {
            try await updateService(id) { spec in
                var template = spec["TaskTemplate"] as! [String: Any]
                var container = template["ContainerSpec"] as! [String: Any]
                container["Env"] = ["V=\(version)"]
                template["ContainerSpec"] = container
                spec["TaskTemplate"] = template
            }
        }

        /// The service's tasks that run: each one's `V` environment value, and when it became
        /// running (its status' timestamp, by dockerd's clock).
        func runningVersions(of service: String) async throws -> [(version: String, since: Date)] {
            let filters = "{\"service\":[\"\(service)\"],\"desired-state\":[\"running\"]}"
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let tasks = try await send("GET", "/tasks?filters=\(filters)") as? [[String: Any]] ?? []
            return tasks.compactMap { task in
                guard let status = task["Status"] as? [String: Any], status["State"] as? String == "running",
                      let since = (status["Timestamp"] as? String).flatMap({ Date(dockerTime: $0) }) else { return nil }
                let env = ((task["Spec"] as? [String: Any])?["ContainerSpec"] as? [String: Any])?["Env"] as? [String] ?? []
                return env.first { $0.hasPrefix("V=") }.map { (String($0.dropFirst(2)), since) }
            }
        }

        /// Until `count` tasks of `service` run version `version`; returns when the last of them
        /// became running, as Swarm recorded it. Polled every 50 ms: the time comes from Swarm's
        /// record, so a light poll loses nothing and leaves dockerd to the work measured.
        @discardableResult
        func waitUntilRunning(_ service: String, version: String, count: Int = 1) async throws -> Date {
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                let running = try await runningVersions(of: service).filter { $0.version == version }.map(\.since)
                if running.count >= count { return running.max()! }
                guard ContinuousClock.now < deadline else { throw BenchmarkError("\(service) v\(version) not running after 300 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func spec(_ name: String, version: Int, replicas: Int = 1, parallelism: Int = 1, order: String = "stop-first") -> [String: Any] {
        [
            "Name": name,
            "Labels": ["helios.bench": "swarm"],
            "TaskTemplate": [
                "ContainerSpec": ["Image": image, "Args": command, "Env": ["V=\(version)"],
                                  "StopGracePeriod": 10_000_000_000] as [String: Any],
                "RestartPolicy": ["Condition": "any"],
            ] as [String: Any],
            "Mode": ["Replicated": ["Replicas": replicas]],
            // Matched with Helios: no delay between batches, no monitor window (Helios: minHealthy 0).
            "UpdateConfig": ["Parallelism": parallelism, "Delay": 0, "Monitor": 0, "Order": order, "FailureAction": "pause"] as [String: Any],
        ]
    }

    static func run(dockerSocket: String) async throws {
        let docker = DockerClient(socketPath: dockerSocket)
        let api = API(transport: HTTPTransport(unixSocket: dockerSocket), version: try await docker.apiVersion())
        let results = Results(part: "Docker Swarm")
        let state = try await api.state()
        guard state == "inactive" else {
            print("Docker Swarm part skipped: this dockerd is already in a swarm (\(state)), which the benchmark leaves alone")
            return
        }
        print("\nDocker Swarm benchmark: a one-node swarm on \(dockerSocket), \(samples) samples each\n")
        try? FileManager.default.createDirectory(at: Results.directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: marker.path, contents: nil)
        do {
            try await api.send("POST", "/swarm/init", ["ListenAddr": "127.0.0.1:0", "AdvertiseAddr": "127.0.0.1"])
            try await measure(api, results, socket: dockerSocket)
        } catch {
            try? await leave(api, docker)
            throw error
        }
        try await leave(api, docker)
    }

    static func leave(_ api: API, _ docker: DockerClient) async throws {
        for service in try await api.send("GET", "/services") as? [[String: Any]] ?? [] {
            if let id = service["ID"] as? String { _ = try? await api.send("DELETE", "/services/\(id)") }
        }
        // Right after the stack's removal dockerd can be too busy to answer in time ("context
        // deadline exceeded"): asked again, for up to a minute.
        for attempt in 1...12 {
            do {
                try await api.send("POST", "/swarm/leave?force=true")
                break
            } catch {
                if (try? await api.state()) == "inactive" { break } // it left; only the answer was late
                if attempt == 12 { throw error }
                try await Task.sleep(for: .seconds(5))
            }
        }
        try? FileManager.default.removeItem(at: marker)
        // Task containers go with their services, a moment later.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let left = try await docker.listContainers(all: true, labels: ["com.docker.swarm.service.name"])
            if left.isEmpty { return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func measure(_ api: API, _ results: Results, socket: String) async throws {
        let run = UUID().uuidString.prefix(6).lowercased()
        // create → running: a new service each sample.
        var created: [Double] = []
        for index in 0..<samples {
            let name = "hb-\(run)-new-\(index)"
            let start = Date()
            let id = try await api.createService(spec(name, version: 0))
            created.append(try await api.waitUntilRunning(name, version: "0").timeIntervalSince(start) * 1000)
            try await api.send("DELETE", "/services/\(id)")
        }
        results.add("new service: create → running", created, baseline: "new deployment: webhook → RUNNING",
                    note: "ratio: Swarm ÷ Helios")
        print(String(format: "service create → running           %8.1f ms median", AgentBenchmark.median(created)))

        // update → the new task running, stop-first and start-first.
        for (order, helios) in [("stop-first", "version bump: webhook → RUNNING"), ("start-first", "version bump with overlap: webhook → RUNNING")] {
            let name = "hb-\(run)-\(order)"
            let id = try await api.createService(spec(name, version: 0, order: order))
            try await api.waitUntilRunning(name, version: "0")
            var timings: [Double] = []
            for version in 1...samples {
                let start = Date()
                try await api.updateService(id, toVersion: version)
                timings.append(try await api.waitUntilRunning(name, version: "\(version)").timeIntervalSince(start) * 1000)
            }
            try await api.send("DELETE", "/services/\(id)")
            results.add("service update (\(order)) → new task running", timings, baseline: helios, note: "ratio: Swarm ÷ Helios")
            print(String(format: "service update %@ → running %8.1f ms median", order, AgentBenchmark.median(timings)))
        }

        // An 8-replica rolling update, parallelism 2: update → every replica on the new version.
        let rolling = "hb-\(run)-rolling"
        let rollingID = try await api.createService(spec(rolling, version: 0, replicas: 8, parallelism: 2))
        try await api.waitUntilRunning(rolling, version: "0", count: 8)
        var rolls: [Double] = []
        for version in 1...max(1, samples / 2) {
            let start = Date()
            try await api.updateService(rollingID, toVersion: version)
            rolls.append(try await api.waitUntilRunning(rolling, version: "\(version)", count: 8).timeIntervalSince(start) * 1000)
        }
        try await api.send("DELETE", "/services/\(rollingID)")
        // 200 services from one `docker stack deploy` (the CLI: stacks are the CLI's), until every one runs.
        let stack = "hb\(run)"
        let compose = FileManager.default.temporaryDirectory.appendingPathComponent("\(stack).yaml")
        defer { try? FileManager.default.removeItem(at: compose) }
        // `$$`: a compose file interpolates `$`.
        let escaped = DeployBenchmark.command.replacingOccurrences(of: "$", with: "$$")
        let services = (0..<DeployBenchmark.wideCount).map { index in
            "  s\(index):\n    image: \(image)\n    command: [\"sh\", \"-c\", \"\(escaped)\"]\n"
        }.joined()
        // The stack's overlay network gets a /16: the default /24 has no room for 200 services' addresses.
        let network = "networks:\n  default:\n    ipam:\n      config:\n        - subnet: 10.201.0.0/16\n"
        try Data("version: \"3.8\"\nservices:\n\(services)\(network)".utf8).write(to: compose)
        let start = ContinuousClock.now
        try shell(["docker", "-H", "unix://\(socket)", "stack", "deploy", "--resolve-image", "never", "-c", compose.path, stack],
                  in: FileManager.default.temporaryDirectory)
        // The stack's task containers carry its namespace label: count the running ones.
        let filters = "{\"label\":[\"com.docker.stack.namespace=\(stack)\"],\"status\":[\"running\"]}"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            let running = try await api.send("GET", "/containers/json?filters=\(filters)") as? [[String: Any]] ?? []
            if running.count >= DeployBenchmark.wideCount { break }
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the stack's services not running after 300 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        results.add("\(DeployBenchmark.wideCount) services, one docker stack deploy → all running", [milliseconds(since: start)],
                    baseline: "\(DeployBenchmark.wideCount) deployments in one commit: webhook → all RUNNING", note: "ratio: Swarm ÷ Helios")
        try shell(["docker", "-H", "unix://\(socket)", "stack", "rm", stack], in: FileManager.default.temporaryDirectory)

        results.add("8 replicas, parallelism 2: update → all running", rolls,
                    baseline: "8 hosts, parallelism 2: webhook → all RUNNING", note: "ratio: Swarm ÷ Helios")
        print(String(format: "8-replica rolling update            %8.1f ms median", AgentBenchmark.median(rolls)))
    }
}
