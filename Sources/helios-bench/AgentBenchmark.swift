// The agent benchmark: what the agent adds to running a container. A real `helios agent`
// process (the release binary next to this one) runs against ZooKeeper and dockerd; each task
// is timed from the moment its plan is written to ZooKeeper until the agent reports it
// RUNNING, next to raw `docker create` + `start` of the same container through the same
// engine API in the same run. Then the agent's idle CPU and resident memory with 50 tasks.
import DockerEngine
import Foundation
import HeliosModel
import HeliosPlanner
import HeliosStore

enum AgentBenchmark {
    static let samples = Int(ProcessInfo.processInfo.environment["BENCH_SAMPLES"] ?? "") ?? 20
    static let idleTasks = 50
    static let idleWindow: Duration = .seconds(60)
    static let image = ProcessInfo.processInfo.environment["HELIOS_TEST_IMAGE"] ?? "helios/busybox:latest"
    static let command = ["sh", "-c", DeployBenchmark.command]

    static func run(servers: String, dockerSocket: String) async throws {
        let docker = DockerClient(socketPath: dockerSocket)
        let host = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        print("""

            Agent benchmark: \(samples) tasks one after another on host \(host), ZooKeeper at \(servers),
            Docker at \(dockerSocket); then \(idleTasks) tasks idle for \(idleWindow)

            """)
        let raw = try await rawStarts(docker, label: host)
        let store = try await HeliosStore.connect(servers: servers, chroot: "/\(host)")
        let agent = try startAgent(host: host, servers: servers, dockerSocket: dockerSocket)
        defer { agent.terminate() }
        while !(try await store.isUp(host)) { try await Task.sleep(for: .milliseconds(50)) }

        var desired = DesiredState()
        var helios: [Double] = []
        for index in 0..<samples {
            let job = Job(name: "bench\(index)", version: "1", image: image, command: command)
            try await deploy(job, host: host, into: &desired, store: store)
            let written = ContinuousClock.now
            try await waitUntilRunning([job.id], host: host, store: store)
            helios.append(milliseconds(since: written))
        }
        report(raw: raw, helios: helios)
        let results = Results(part: "footprint")
        let agentRaw = Results(part: "floors").add("docker create + start, one after another (agent part)", raw)
        let heliosResults = Results(part: "Helios")
        heliosResults.add("task written → RUNNING through the agent", helios, baseline: agentRaw.name)

        for index in samples..<idleTasks {
            let job = Job(name: "bench\(index)", version: "1", image: image, command: command)
            desired.jobs[job.id] = job
            desired.deployments[job.name] = Deployment(name: job.name, jobID: job.id, hosts: [host])
        }
        let together = ContinuousClock.now
        try await apply(desired, store: store)
        try await waitUntilRunning(Array(desired.jobs.keys), host: host, store: store)
        let allRunning = milliseconds(since: together)
        print(String(format: "%d tasks in one write → all RUNNING: %.0f ms", idleTasks - samples, allRunning))
        heliosResults.add("\(idleTasks - samples) tasks in one write → all RUNNING through the agent", [allRunning],
                          note: "the supervisors start containers side by side (up to 8 Engine API calls at once)")
        let idle = try await idleUsage(of: agent.processIdentifier)
        let anonymous = try residentMiB(of: agent.processIdentifier, field: "RssAnon")
        print(String(format: "idle with %d tasks over %.0f s: CPU %.2f %% of one core, RSS %.1f MiB (%.1f MiB anonymous)",
                     idleTasks, Double(idleWindow.components.seconds), idle.cpuPercent, idle.rssMiB, anonymous))
        results.add("agent idle with \(idleTasks) tasks: RSS", unit: "MiB", [idle.rssMiB], target: "≤ 30 MiB", met: idle.rssMiB <= 30,
                    note: "helios-agent, the static release binary `make release` ships for hosts")
        results.add("agent idle with \(idleTasks) tasks: anonymous part of the RSS (heap, stacks)", unit: "MiB", [anonymous],
                    note: "the rest is the binary's and libraries' pages, shared and reclaimable")
        results.add("agent idle with \(idleTasks) tasks: CPU", unit: "% of a core", [idle.cpuPercent], target: "≤ 0.5%",
                    met: idle.cpuPercent <= 0.5, note: "over \(idleWindow.components.seconds) s")

        agent.terminate()
        agent.waitUntilExit()
        for container in try await docker.listContainers(all: true, labels: ["helios.host=\(host)"]) {
            try? await docker.removeContainer(container.id, force: true)
        }
        await store.close()
    }

    /// Raw `docker create` + `start` of the same container, one after another: milliseconds each.
    static func rawStarts(_ docker: DockerClient, label: String, count: Int = samples) async throws -> [Double] {
        var timings: [Double] = []
        var created: [String] = []
        for index in 0..<count {
            let start = ContinuousClock.now
            let id = try await docker.createContainer(
                name: "\(label)-raw-\(index)", spec: ContainerSpec(image: image, command: command, labels: ["helios.bench": label]))
            try await docker.startContainer(id)
            timings.append(milliseconds(since: start))
            created.append(id)
        }
        for id in created { try? await docker.removeContainer(id, force: true) }
        return timings
    }

    /// The `helios` binary built next to this one.
    static var heliosBinary: URL { binary("helios") }

    /// The `helios-agent` binary built next to this one: the agent as hosts run it.
    static var agentBinary: URL { binary("helios-agent") }

    static func binary(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name)
    }

    static func startAgent(host: String, servers: String, dockerSocket: String, chroot: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = agentBinary
        process.arguments = ["--zk", servers, "--chroot", chroot ?? "/\(host)", "--name", host,
                             "--docker-socket", dockerSocket, "--log-level", "warning",
                             "--state-dir", FileManager.default.temporaryDirectory.appendingPathComponent(host).path]
        try process.run()
        return process
    }

    static func deploy(_ job: Job, host: String, into desired: inout DesiredState, store: HeliosStore) async throws {
        desired.jobs[job.id] = job
        desired.deployments[job.name] = Deployment(name: job.name, jobID: job.id, hosts: [host])
        try await apply(desired, store: store)
    }

    static func apply(_ desired: DesiredState, store: HeliosStore) async throws {
        let snapshot = try await store.readCluster()
        try await store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                           target: "bench", now: Date()), to: snapshot)
    }

    /// Polls the tasks' statuses every 2 ms until each is RUNNING.
    static func waitUntilRunning(_ ids: [JobID], host: String, store: HeliosStore) async throws {
        var waiting = Set(ids)
        let deadline = ContinuousClock.now + .seconds(300)
        while !waiting.isEmpty {
            guard ContinuousClock.now < deadline else { fatalError("tasks not RUNNING after 300 s: \(waiting)") }
            for id in waiting {
                if (try? await store.taskStatus(id, host: host))?.state == .running { waiting.remove(id) }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        }
    }

    static func report(raw: [Double], helios: [Double]) {
        let rawMedian = median(raw)
        let heliosMedian = median(helios)
        print("                                    median      best     worst")
        print(String(format: "raw docker create + start       %8.1f ms %8.1f ms %8.1f ms", rawMedian, raw.min()!, raw.max()!))
        print(String(format: "Helios task written → RUNNING   %8.1f ms %8.1f ms %8.1f ms", heliosMedian, helios.min()!, helios.max()!))
        print(String(format: "agent overhead (median)         %8.1f ms  (%.2f× raw)", heliosMedian - rawMedian, heliosMedian / rawMedian))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// CPU used by `pid` over the idle window and its resident set at the end.
    static func idleUsage(of pid: Int32) async throws -> (cpuPercent: Double, rssMiB: Double) {
        let before = try cpuSeconds(of: pid)
        try await Task.sleep(for: idleWindow)
        let used = try cpuSeconds(of: pid) - before
        return (used / Double(idleWindow.components.seconds) * 100, try residentMiB(of: pid))
    }
}
