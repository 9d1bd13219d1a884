// Scale, simulated: a real `helios master` (release binary) on the real ZooKeeper server, and a
// fleet of simulated agents in this process. Each simulated host registers as an agent does
// (status node, `up` ephemeral, facts, labels), watches its task list through the same store
// reads, and answers each new task as an agent would: RUNNING after a delay drawn around the
// create + start floor (250–450 ms), its status gone after a stop (100–300 ms) when the task
// goes. No Docker, no containers, no health checks, no task history: bench/README.md says what
// this leaves out. Hosts share ZooKeeper sessions (one per 40 hosts), so the server holds 50
// sessions, not 2,000.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosModel
import HeliosStore

enum FleetBenchmark {
    static let hostCount = Int(ProcessInfo.processInfo.environment["BENCH_FLEET_HOSTS"] ?? "") ?? 2_000
    static let deploymentsPerHost = 5
    static let parallelism = 100
    static let hostsPerSession = 40

    /// One session's simulated agents: what each host runs, answered as an agent would.
    actor Agents {
        let store: HeliosStore
        let hosts: [String]
        private var known: [String: Set<JobID>] = [:]
        private(set) var starts = 0

        init(store: HeliosStore, hosts: [String]) {
            self.store = store
            self.hosts = hosts
        }

        func register() async throws {
            for host in hosts {
                try await store.registerHost(host, agentID: "sim-\(host)", info: HostInfo(
                    hostname: host, agentVersion: "simulated", dockerAPIVersion: nil), labels: ["fleet": "sim"])
            }
            for host in hosts { try await look(at: host) }
        }

        /// Follows the task watches until cancelled.
        func run() async {
            for await event in store.events() {
                switch event {
                case .tasksChanged(let host) where hosts.contains(host): try? await look(at: host)
                case .journalFinished, .reconnected: for host in hosts { try? await look(at: host) }
                default: continue
                }
            }
        }

        /// Reads `host`'s tasks (arming the watch again) and answers what changed.
        private func look(at host: String) async throws {
            let tasks: [JobID: HostTask]
            do {
                tasks = try await store.tasks(of: host, watch: true)
            } catch HeliosStoreError.journalInProgress {
                return // the journal's end is an event: looked at again then
            }
            let now = Set(tasks.keys), before = known[host] ?? []
            known[host] = now
            for id in now.subtracting(before) {
                starts += 1
                Task {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 250...450)))
                    try await store.setTaskStatus(TaskStatus(jobID: id, goal: .start, state: .running), host: host)
                }
            }
            for id in before.subtracting(now) {
                Task {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 100...300)))
                    try await store.removeTaskStatus(id, host: host)
                }
            }
        }
    }

    static func manifests(hosts: [String], versions: [Int]) -> String {
        versions.enumerated().map { index, version in
            """
            kind: Job
            name: app\(index)
            version: "\(version)"
            image: example/app\(index):\(version)
            ---
            kind: Deployment
            name: app\(index)
            job: app\(index)
            hostSelector: [fleet=sim]
            rollout: { parallelism: \(parallelism), minHealthy: 0s, timeout: 5m }

            """
        }.joined(separator: "---\n")
    }

    static func run(servers: String) async throws {
        let run = UUID().uuidString.prefix(6).lowercased()
        let chroot = "/fleet-\(run)"
        let hosts = (0..<hostCount).map { String(format: "sim-%04d", $0) }
        print("\nScale benchmark (SIMULATED agents): \(hostCount) hosts × \(deploymentsPerHost) deployments, parallelism \(parallelism), ZooKeeper at \(servers)\n")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("helios-bench-fleet-\(run)")
        defer { try? FileManager.default.removeItem(at: work) }
        let remote = try ManifestRemote(in: work)
        func push(_ versions: [Int]) throws {
            try Data(manifests(hosts: hosts, versions: versions).utf8).write(to: remote.clone.appendingPathComponent("apps.yaml"))
            try remote.push("\(versions)")
        }

        var fleets: [Agents] = []
        var followers: [Task<Void, Never>] = []
        for start in stride(from: 0, to: hosts.count, by: hostsPerSession) {
            let store = try await HeliosStore.connect(servers: servers, chroot: chroot, sessionTimeout: .seconds(30))
            let agents = Agents(store: store, hosts: Array(hosts[start..<min(start + hostsPerSession, hosts.count)]))
            try await agents.register()
            fleets.append(agents)
            followers.append(Task { await agents.run() })
        }
        let watcher = try await HeliosStore.connect(servers: servers, chroot: chroot)
        defer { for follower in followers { follower.cancel() } }
        print("\(hostCount) simulated hosts registered")

        let port = try DeployBenchmark.freePort()
        let master = try DeployBenchmark.startMaster(servers: servers, chroot: chroot, repo: remote.bare.path, poll: "10m", port: port,
                                                     stateDirectory: work.appendingPathComponent("master").path)
        defer { master.terminate() }
        let results = Results(part: "scale (simulated)")

        // Everything at once: 5 deployments on every host, from nothing.
        var versions = Array(repeating: 1, count: deploymentsPerHost)
        try push(versions)
        var start = ContinuousClock.now
        try await DeployBenchmark.sync(port: port)
        try await waitUntilDone(versions, store: watcher)
        let initial = milliseconds(since: start)
        try await waitUntilRunning(versions, hosts: hosts, store: watcher)
        let tasks = Double(hostCount * deploymentsPerHost)
        results.add("first deploy: \(Int(tasks)) tasks → RUNNING", [initial], note: "5 rollouts at once, parallelism \(parallelism)")
        results.add("task starts per second through ZooKeeper, first deploy", unit: "/s", [tasks / initial * 1000],
                    note: "Nomad's C1M placed about 3,333/s")
        print(String(format: "first deploy of %.0f tasks: %.1f s (%.0f task starts/s)", tasks, initial / 1000, tasks / initial * 1000))
        try addStartUp("first deploy", try await startUpLatencies(of: versions, on: hosts, store: watcher), to: results)

        // The leader idle, then during a version bump on every host.
        let idleWindow = 10.0
        let idleBefore = try await leaderRequests(port: port), cpuBefore = try cpuSeconds(of: master.processIdentifier)
        try await Task.sleep(for: .seconds(idleWindow))
        let idleAfter = try await leaderRequests(port: port), cpuAfter = try cpuSeconds(of: master.processIdentifier)
        results.add("leader idle: ZooKeeper reads", unit: "/s", [Double(idleAfter.reads - idleBefore.reads) / idleWindow])
        results.add("leader idle: ZooKeeper writes", unit: "/s", [Double(idleAfter.writes - idleBefore.writes) / idleWindow])
        results.add("leader idle: CPU", unit: "% of a core", [(cpuAfter - cpuBefore) / idleWindow * 100])
        results.add("leader idle: RSS", unit: "MiB", [try residentMiB(of: master.processIdentifier)])

        versions[0] = 2
        try push(versions)
        start = ContinuousClock.now
        try await DeployBenchmark.sync(port: port)
        try await waitUntilDone(versions, store: watcher)
        let bump = milliseconds(since: start)
        try await waitUntilRunning(versions, hosts: hosts, store: watcher)
        let busy = try await leaderRequests(port: port), cpuBusy = try cpuSeconds(of: master.processIdentifier)
        let seconds = bump / 1000
        results.add("version bump on \(hostCount) hosts, parallelism \(parallelism) → all RUNNING", [bump],
                    target: "≤ 30 s", met: bump <= 30_000, note: "\(hostCount / parallelism) batches")
        results.add("task starts per second, the bump", unit: "/s", [Double(hostCount) / seconds])
        results.add("leader during the bump: ZooKeeper reads", unit: "/s", [Double(busy.reads - idleAfter.reads) / seconds])
        results.add("leader during the bump: ZooKeeper writes", unit: "/s", [Double(busy.writes - idleAfter.writes) / seconds])
        results.add("leader during the bump: CPU", unit: "% of a core", [(cpuBusy - cpuAfter) / seconds * 100])
        results.add("leader after the bump: RSS", unit: "MiB", [try residentMiB(of: master.processIdentifier)])
        print(String(format: "version bump on %d hosts: %.1f s", hostCount, seconds))
        try addStartUp("the bump", try await startUpLatencies(of: [versions[0]], on: hosts, store: watcher), to: results)

        master.terminate()
        master.waitUntilExit()
        for follower in followers { follower.cancel() }
        for fleet in fleets { await fleet.store.close() }
        await watcher.close()
    }

    /// Polls the rollout statuses (one read each, every 20 ms) until each deployment's rollout to
    /// its version is DONE: its last batch RUNNING on every host. Light, so the harness does not
    /// compete with what it measures.
    static func waitUntilDone(_ versions: [Int], store: HeliosStore) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while true {
            let statuses = try await store.rolloutStatuses()
            let done = versions.enumerated().allSatisfy { index, version in
                statuses["app\(index)"].map { $0.state == .done && $0.jobID.version == "\(version)" } ?? false
            }
            if done { return }
            guard ContinuousClock.now < deadline else { throw BenchmarkError("rollouts not done after 600 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Checks (untimed) every host's statuses until each runs every deployment at its version.
    static func waitUntilRunning(_ versions: [Int], hosts: [String], store: HeliosStore) async throws {
        let wanted = Set(versions.enumerated().map { "app\($0.offset):\($0.element)" })
        try await waitForStatuses(of: hosts, store: store, every: .milliseconds(50), timeout: .seconds(600),
                                  "every deployment RUNNING at \(versions)") { statuses in
            wanted.isSubset(of: Set(statuses.values.filter { $0.state == .running }.map { $0.jobID.nameAndVersion }))
        }
    }

    /// Each task's start-up latency as Kubernetes counts a pod's: from its write (the master's, by
    /// ZooKeeper's clock) to its RUNNING status (the agent's), for the deployments `app0…` at
    /// `versions` on every host. Read after the run, untimed.
    static func startUpLatencies(of versions: [Int], on hosts: [String], store: HeliosStore) async throws -> [Double] {
        let wanted = Set(versions.enumerated().map { "app\($0.offset):\($0.element)" })
        var latencies: [Double] = []
        for start in stride(from: 0, to: hosts.count, by: 200) {
            latencies += try await withThrowingTaskGroup(of: [Double].self) { group in
                for host in hosts[start..<min(start + 200, hosts.count)] {
                    group.addTask {
                        var found: [Double] = []
                        for id in try await store.taskStatuses(host: host).keys where wanted.contains(id.nameAndVersion) {
                            guard let times = try await store.taskTimes(id, host: host), let running = times.lastReported else { continue }
                            found.append(running.timeIntervalSince(times.assigned) * 1000)
                        }
                        return found
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        return latencies
    }

    /// The start-up latencies' p50 and p99 (Kubernetes' SLO: p99 ≤ 5 s for a pod whose image is present).
    static func addStartUp(_ when: String, _ latencies: [Double], to results: Results) throws {
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { throw BenchmarkError("\(when): no task start-up to measure") }
        func percentile(_ p: Double) -> Double { sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        let note = "task written → RUNNING, \(sorted.count) tasks, the simulated start 250–450 ms included"
        results.add("task start-up p50, \(when)", [percentile(0.5)], note: note)
        results.add("task start-up p99, \(when)", [percentile(0.99)], target: "≤ 5 s (Kubernetes' pod start-up SLO)",
                    met: percentile(0.99) <= 5_000, note: note)
        print(String(format: "task start-up, %@: p50 %.0f ms, p99 %.0f ms, max %.0f ms", when, percentile(0.5), percentile(0.99), sorted.last!))
    }

    /// The leader's ZooKeeper requests so far, from its `/metrics`.
    static func leaderRequests(port: Int) async throws -> (reads: Int, writes: Int) {
        let page = try await MetricsPage.read(port: port)
        return (Int(page.value("helios_zookeeper_requests_total{kind=\"read\"}")),
                Int(page.value("helios_zookeeper_requests_total{kind=\"write\"}")))
    }
}
