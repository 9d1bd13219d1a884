// The deploy benchmark: commit → RUNNING. Real `helios master` and `helios agent` processes
// (the release binary next to this one), a bare git repository on disk, ZooKeeper and dockerd.
// Each sample commits and pushes a change and times it until the agents' RUNNING writes (as
// ZooKeeper recorded them; see `waitUntilRunning`): a
// version bump with the webhook (`POST /v1/sync` right after the push) and with a 1 s poll; a
// new deployment; a bump with `overlap: true` (checking the old container ran until the new one
// did); and an 8-host rolling update with parallelism 2 (8 agents on the one dockerd). Right
// before each webhook sample, one sample of its floor through the Engine API (create + start;
// stop + create + start).
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import DockerEngine
import HeliosModel
import HeliosStore

enum DeployBenchmark {
    static let samples = Int(ProcessInfo.processInfo.environment["BENCH_SAMPLES"] ?? "") ?? 8
    static let image = AgentBenchmark.image
    /// The container's command, for Helios, Swarm and the floors alike. Exits at once on TERM:
    /// `wait` is interrupted by the trap, where a bare `sleep 1` held a stop for what was left of
    /// its second (a floor's stop of a container started 0.3 s before waited 0.7 s, Helios' and
    /// Swarm's a random part of a second: the floor was biased).
    static let command = "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"
    static let rollingHosts = 8
    /// Deployments in the one wide commit (Swarm: services in one stack).
    static let wideCount = 200

    static func job(_ name: String, version: Int) -> String {
        """
        kind: Job
        name: \(name)
        version: "\(version)"
        image: \(image)
        command: [sh, -c, "\(command)"]

        """
    }

    static func deployment(_ name: String, hosts: [String], rollout: String = "{ parallelism: 1 }") -> String {
        """
        kind: Deployment
        name: \(name)
        job: \(name)
        hosts: [\(hosts.joined(separator: ", "))]
        rollout: \(rollout)

        """
    }

    static func run(servers: String, dockerSocket: String) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("helios-bench-deploy-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let run = UUID().uuidString.prefix(6).lowercased()
        let host = "deploy-\(run)"
        let chroot = "/\(host)"
        let docker = DockerClient(socketPath: dockerSocket)
        print("""

            Deploy benchmark: commit → RUNNING on host \(host), \(samples) samples each,
            ZooKeeper at \(servers), Docker at \(dockerSocket)

            """)
        // The floors are sampled right before each Helios sample they are the baseline of, so
        // both see the machine as it was then (it is shared and noisy).
        let floors = Results(part: "floors")
        let createStart = "docker create + start (Engine API)", replace = "docker stop + create + start (Engine API)"
        var replacements: [Double] = []

        // A bare repository the master follows, and a clone to commit in.
        let remote = try ManifestRemote(in: work)
        let clone = remote.clone
        var files: [String: String] = [:]
        func push() throws {
            for (path, text) in files { try Data(text.utf8).write(to: clone.appendingPathComponent(path)) }
            try remote.push("bench")
        }

        let store = try await HeliosStore.connect(servers: servers, chroot: chroot)
        let rollingNames = (0..<rollingHosts).map { "\(host)-r\($0)" }
        var agents = [try AgentBenchmark.startAgent(host: host, servers: servers, dockerSocket: dockerSocket, chroot: chroot)]
        for name in rollingNames {
            agents.append(try AgentBenchmark.startAgent(host: name, servers: servers, dockerSocket: dockerSocket, chroot: chroot))
        }
        defer { for agent in agents { agent.terminate() } }
        for name in [host] + rollingNames {
            while !(try await store.isUp(name)) { try await Task.sleep(for: .milliseconds(50)) }
        }
        // The wide commit's deployments go again in one commit: more than maxPrune's default allows.
        files["helios.yaml"] = "maxPrune: 100%\n"
        var versions = ["bench": 1, "overlap": 1, "rolling": 1]
        files["bench.yaml"] = job("bench", version: 1) + "---\n" + deployment("bench", hosts: [host])
        files["overlap.yaml"] = job("overlap", version: 1) + "---\n"
            + deployment("overlap", hosts: [host], rollout: "{ parallelism: 1, overlap: true }")
        files["rolling.yaml"] = job("rolling", version: 1) + "---\n"
            + deployment("rolling", hosts: rollingNames, rollout: "{ parallelism: 2, minHealthy: 0s }")
        try push()
        let helios = Results(part: "Helios")

        for (mode, poll) in [("webhook", "10m"), ("1 s poll", "1s")] {
            let port = try freePort()
            let master = try startMaster(servers: servers, chroot: chroot, repo: remote.bare.path, poll: poll, port: port,
                                         stateDirectory: work.appendingPathComponent("master-\(poll)").path)
            defer { master.terminate(); master.waitUntilExit() }
            // Warm up: the master has synced the head and the agents run it.
            try await sync(port: port)
            try await waitUntilRunning("bench", version: versions["bench"]!, hosts: [host], store: store)
            try await waitUntilRunning("rolling", version: versions["rolling"]!, hosts: rollingNames, store: store)

            /// Pushes what `change` did to the files and times it until `name` at its version runs on
            /// `hosts`; with `steps`, notes when each step of the first host's task was recorded.
            func timed(_ name: String, hosts: [String], steps: Steps? = nil, _ change: () -> Void) async throws -> Double {
                change()
                let metrics = steps == nil ? nil : try await MetricsPage.read(port: port)
                try push()
                let pushed = Date()
                if mode == "webhook" { try await sync(port: port) }
                let tasks = try await waitUntilRunning(name, version: versions[name] ?? 1, hosts: hosts, store: store)
                if let steps, let metrics {
                    try await steps.record(tasks[0], pushedAt: pushed, docker: docker)
                    steps.record(master: try await MetricsPage.read(port: port), since: metrics)
                }
                return try lastRunning(tasks).timeIntervalSince(pushed) * 1000
            }
            var bumps: [Double] = []
            for _ in 0..<samples {
                if mode == "webhook" { replacements += try await rawReplacements(docker, label: host, count: 1) }
                bumps.append(try await timed("bench", hosts: [host]) {
                    versions["bench"]! += 1
                    files["bench.yaml"] = job("bench", version: versions["bench"]!) + "---\n" + deployment("bench", hosts: [host])
                })
            }
            if mode == "webhook" {
                floors.add(replace, replacements)
                let excess = pairedExcess(bumps, over: replacements)
                helios.add("version bump: \(mode) → RUNNING", bumps, baseline: replace, target: "≤ stop + create + start + 100 ms",
                           met: excess <= 100, note: excessNote(excess))
            } else {
                helios.add("version bump: \(mode) → RUNNING", bumps, baseline: replace)
            }
            print(String(format: "version bump, %@: %.1f ms median", mode, AgentBenchmark.median(bumps)))
            guard mode == "webhook" else { continue }

            /// Until `deployment`'s rollout is over: DONE, its old task retired, its container
            /// stopped and the one before removed (the agent keeps the newest stopped container
            /// of a deployment). A sample begun while the agent still cleans up (vfs removes a
            /// container's whole file tree) would time that too, and so would its floor.
            func settle(_ deployment: String) async throws {
                let deadline = ContinuousClock.now + .seconds(60)
                while true {
                    let done = try await store.rolloutStatuses()[deployment].map { $0.state == .done } ?? true
                    let containers = try await docker.listContainers(all: true, labels: ["helios.host=\(host)", "helios.deployment=\(deployment)"])
                    if done, containers.filter({ $0.state == .running }).count == 1, containers.count <= 2 { return }
                    guard ContinuousClock.now < deadline else { throw BenchmarkError("the \(deployment) rollout did not settle in 60 s") }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }

            var created: [Double] = [], createdFloors: [Double] = []
            let newSteps = Steps(), overlapSteps = Steps()
            try await settle("bench") // the bumps' clean-up
            for index in 0..<samples {
                createdFloors += try await AgentBenchmark.rawStarts(docker, label: host, count: 1)
                created.append(try await timed("new\(index)", hosts: [host], steps: newSteps) {
                    files["new\(index).yaml"] = job("new\(index)", version: 1) + "---\n" + deployment("new\(index)", hosts: [host])
                })
            }
            print(String(format: "new deployment, webhook: %.1f ms median", AgentBenchmark.median(created)))

            // With overlap: the new container runs before the old one stops.
            var overlapped: [Double] = [], overlapFloors: [Double] = []
            var downtime = 0
            /// The overlap deployment's running containers on the host.
            func overlapContainers() async throws -> [ContainerSummary] {
                try await docker.listContainers(labels: ["helios.host=\(host)", "helios.deployment=overlap"])
            }
            for _ in 0..<samples {
                try await settle("overlap")
                let before = try await overlapContainers().map(\.id)
                overlapFloors += try await AgentBenchmark.rawStarts(docker, label: host, count: 1)
                overlapped.append(try await timed("overlap", hosts: [host], steps: overlapSteps) {
                    versions["overlap"]! += 1
                    files["overlap.yaml"] = job("overlap", version: versions["overlap"]!) + "---\n"
                        + deployment("overlap", hosts: [host], rollout: "{ parallelism: 1, overlap: true }")
                })
                if !before.allSatisfy(try await overlapContainers().map(\.id).contains) { downtime += 1 }
            }
            floors.add(createStart, createdFloors + overlapFloors)
            let newExcess = pairedExcess(created, over: createdFloors), overlapExcess = pairedExcess(overlapped, over: overlapFloors)
            helios.add("new deployment: webhook → RUNNING", created, baseline: createStart, target: "≤ create + start + 50 ms",
                       met: newExcess <= 50, note: excessNote(newExcess))
            helios.add("version bump with overlap: webhook → RUNNING", overlapped, baseline: createStart,
                       target: "≤ create + start + 100 ms", met: overlapExcess <= 100,
                       note: excessNote(overlapExcess) + "; " + (downtime == 0 ? "the old container ran until the new one did, every sample"
                           : "\(downtime) of \(samples) samples: the old container had stopped first"))
            print(String(format: "version bump with overlap, webhook: %.1f ms median", AgentBenchmark.median(overlapped)))
            let steps = Results(part: "where the time goes") // one Results a part: each writes the part's file
            newSteps.report("new deployment", to: steps)
            overlapSteps.report("overlap bump", to: steps)

            var rolls: [Double] = []
            for _ in 0..<max(1, samples / 2) {
                rolls.append(try await timed("rolling", hosts: rollingNames) {
                    versions["rolling"]! += 1
                    files["rolling.yaml"] = job("rolling", version: versions["rolling"]!) + "---\n"
                        + deployment("rolling", hosts: rollingNames, rollout: "{ parallelism: 2, minHealthy: 0s }")
                })
            }
            helios.add("8 hosts, parallelism 2: webhook → all RUNNING", rolls, baseline: replace,
                       note: "8 agents on one dockerd, 4 batches; ratio against one replacement")
            print(String(format: "8 hosts, parallelism 2: %.1f ms median", AgentBenchmark.median(rolls)))

            // 200 deployments in one commit, on the one host; the master's and agent's footprint meanwhile.
            let wide = (0..<wideCount).map { "wide\($0)" }
            for name in wide { files["wide/\(name).yaml"] = job(name, version: 1) + "---\n" + deployment(name, hosts: [host]) }
            try FileManager.default.createDirectory(at: clone.appendingPathComponent("wide"), withIntermediateDirectories: true)
            let before = (master: try cpuSeconds(of: master.processIdentifier),
                          agent: try cpuSeconds(of: agents[0].processIdentifier))
            try push()
            let pushed = ContinuousClock.now
            try await sync(port: port)
            try await waitUntilRunning(prefix: "wide", count: wideCount, host: host, store: store)
            let took = milliseconds(since: pushed)
            helios.add("\(wideCount) deployments in one commit: webhook → all RUNNING", [took], baseline: createStart,
                       note: "one host; ratio against one create + start")
            let footprint = Results(part: "footprint")
            for (name, process, cpu) in [("master", master, before.master), ("agent", agents[0], before.agent)] {
                footprint.add("\(name) during the \(wideCount)-deployment commit: CPU", unit: "% of a core",
                              [(try cpuSeconds(of: process.processIdentifier) - cpu) / (took / 1000) * 100])
                footprint.add("\(name) after the \(wideCount)-deployment commit: RSS", unit: "MiB",
                              [try residentMiB(of: process.processIdentifier)])
            }
            print(String(format: "%d deployments in one commit: %.1f s", wideCount, took / 1000))
            for name in wide { files["wide/\(name).yaml"] = nil }
            try FileManager.default.removeItem(at: clone.appendingPathComponent("wide"))
            try push()
            try await sync(port: port)
            while try await store.taskStatuses(host: host).keys.contains(where: { $0.name.hasPrefix("wide") }) {
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        for agent in agents { agent.terminate(); agent.waitUntilExit() }
        for name in [host] + rollingNames {
            for container in try await docker.listContainers(all: true, labels: ["helios.host=\(name)"]) {
                try? await docker.removeContainer(container.id, force: true)
            }
        }
        await store.close()
    }

    /// How much longer each Helios sample took than the floor sampled right before it, as a
    /// median: the machine is shared and its speed drifts within a run, so each sample is held
    /// against the floor of its own moment (the targets are met or missed on this).
    static func pairedExcess(_ samples: [Double], over floors: [Double]) -> Double {
        AgentBenchmark.median(zip(samples, floors).map { $0 - $1 })
    }

    static func excessNote(_ excess: Double) -> String {
        String(format: "%+.0f ms over the floor sampled right before each, median", excess)
    }

    /// The floor of a replacement: stop the old container, create and start the new one, through the Engine API.
    static func rawReplacements(_ docker: DockerClient, label: String, count: Int = samples) async throws -> [Double] {
        let spec = ContainerSpec(image: image, command: ["sh", "-c", command], labels: ["helios.bench": label])
        var current = try await docker.createContainer(name: "\(label)-replace-0", spec: spec)
        try await docker.startContainer(current)
        var timings: [Double] = []
        var created = [current]
        for index in 1...count {
            let start = ContinuousClock.now
            try await docker.stopContainer(current)
            current = try await docker.createContainer(name: "\(label)-replace-\(index)", spec: spec)
            try await docker.startContainer(current)
            timings.append(milliseconds(since: start))
            created.append(current)
        }
        for id in created { try? await docker.removeContainer(id, force: true) }
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

    /// Until `name` at `version` is RUNNING on every one of `hosts`; returns each host's task as
    /// ZooKeeper recorded it, in the order of `hosts`. Polled every 50 ms: the time comes from
    /// ZooKeeper's record (`lastRunning`), so a light poll loses nothing and leaves the CPUs to
    /// what is measured.
    @discardableResult
    static func waitUntilRunning(_ name: String, version: Int, hosts: [String],
                                 store: HeliosStore) async throws -> [(status: TaskStatus, times: TaskTimes)] {
        try await waitForStatuses(of: hosts, store: store, every: .milliseconds(50), timeout: .seconds(120),
                                  "\(name) version \(version) RUNNING") { statuses in
            statuses.contains { $0.key.name == name && $0.key.version == "\(version)" && $0.value.state == .running }
        }
        var tasks: [(status: TaskStatus, times: TaskTimes)] = []
        for host in hosts { tasks.append(try await task(name, version: version, on: host, store: store)) }
        return tasks
    }

    /// When the last of `tasks` wrote RUNNING (its status node's last change).
    static func lastRunning(_ tasks: [(status: TaskStatus, times: TaskTimes)]) throws -> Date {
        try tasks.map { task in
            guard let running = task.times.lastReported else {
                throw BenchmarkError("\(task.status.jobID): RUNNING seen but no status node")
            }
            return running
        }.max() ?? .distantPast
    }

    /// The status and the recorded times of `name` at `version` on `host`.
    static func task(_ name: String, version: Int, on host: String,
                     store: HeliosStore) async throws -> (status: TaskStatus, times: TaskTimes) {
        let statuses = try await store.taskStatuses(host: host)
        guard let (id, status) = statuses.first(where: { $0.key.name == name && $0.key.version == "\(version)" }),
              let times = try await store.taskTimes(id, host: host) else {
            throw BenchmarkError("\(name) version \(version): no task on \(host)")
        }
        return (status, times)
    }

    /// Until `count` jobs named `prefix…` are RUNNING on `host` (polled every 20 ms).
    static func waitUntilRunning(prefix: String, count: Int, host: String, store: HeliosStore) async throws {
        try await waitForStatuses(of: [host], store: store, every: .milliseconds(20), timeout: .seconds(300),
                                  "\(count) \(prefix)… jobs RUNNING") { statuses in
            statuses.filter { $0.key.name.hasPrefix(prefix) && $0.value.state == .running }.count >= count
        }
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

/// Where the samples of one figure spent their time: when each step of the task was recorded,
/// in ms after the push, up to the figure itself (the agent's RUNNING write). The master's write
/// and the agent's first status by ZooKeeper's clock, the container's start by Docker's; all on
/// this one machine, so one clock.
final class Steps {
    static let names = ["the master wrote the task", "the agent's first status", "Docker started the container"]
    /// Each step's samples, in the order of `names`.
    private var samples = Array(repeating: [Double](), count: names.count)
    /// How long the master's fetch, and its read, plan and write after it, took (its own measure).
    private var fetches: [Double] = [], syncs: [Double] = []

    /// Notes the steps of `task` (as `DeployBenchmark.waitUntilRunning` read it).
    func record(_ task: (status: TaskStatus, times: TaskTimes), pushedAt: Date, docker: DockerClient) async throws {
        var started: Date?
        if let container = task.status.containerID { started = try await docker.inspectContainer(container).state.started }
        for (index, moment) in [task.times.assigned, task.times.firstReported, started].enumerated() {
            if let moment { samples[index].append(moment.timeIntervalSince(pushedAt) * 1000) }
        }
    }

    /// Notes what the master's `/metrics` say its sync of the sample took.
    func record(master after: MetricsPage, since before: MetricsPage) {
        if let fetch = after.mean("helios_git_fetch_duration_seconds", since: before) { fetches.append(fetch) }
        if let sync = after.mean("helios_sync_duration_seconds", since: before) { syncs.append(sync) }
    }

    /// One row a step, in the order the steps happen, then the master's share of the first.
    func report(_ figure: String, to results: Results) {
        for (step, values) in zip(Self.names, samples) where !values.isEmpty {
            results.add("\(figure): \(step)", values, note: "ms after the push")
            print(String(format: "  %@: %@ %.1f ms after the push (median)", figure, step, AgentBenchmark.median(values)))
        }
        for (part, values) in [("the master's git fetch", fetches), ("the master's load, plan and write", syncs)] where !values.isEmpty {
            results.add("\(figure): \(part)", values, note: "ms it took, by the master's /metrics")
            print(String(format: "  %@: %@ took %.1f ms (median)", figure, part, AgentBenchmark.median(values)))
        }
    }
}
