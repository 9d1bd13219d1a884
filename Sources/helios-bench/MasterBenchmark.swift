// The master benchmark: a real `helios master` (the release binary next to this one) following a
// bare git repository of 10,000 jobs on 2,000 hosts. It measures a one-file commit from push to
// applied (the webhook, then the sync record naming the commit), next to planning the same
// commit in full in this process, and the leader's ZooKeeper load while nothing changes — the
// requests the ZooKeeper server received (its `mntr`), next to what one read of the whole
// cluster costs, measured the same way in the same run.
//
// The hosts are registered and then DOWN (no agents run here): tasks are written at once and no
// rollout waits. Rollouts at this scale, with a simulated fleet, are issue 16's benchmark.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Git
import HeliosManifests
import HeliosModel
import HeliosPlanner
import HeliosStore

enum MasterBenchmark {
    static let samples = Int(ProcessInfo.processInfo.environment["BENCH_SAMPLES"] ?? "") ?? 7
    static let idleSeconds = 20

    static func run(servers: String) async throws {
        let jobs = PlannerBenchmark.jobCount, hosts = PlannerBenchmark.hostCount
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("helios-bench-master-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let chroot = "/bench-master-\(UUID().uuidString.prefix(8).lowercased())"
        print("""

            Master benchmark: a real master following a repository of \(jobs) jobs on \(hosts) hosts
            (hosts registered and DOWN: no agents, no rollouts wait), ZooKeeper at \(servers)

            """)

        // The repository: a bare one the master follows, and a clone to commit in.
        let remote = try ManifestRemote(in: work)
        let (bare, clone) = (remote.bare, remote.clone)
        try FileManager.default.createDirectory(at: clone.appendingPathComponent("services"), withIntermediateDirectories: true)
        for index in 0..<jobs {
            try Data(PlannerBenchmark.manifest(index).utf8).write(to: clone.appendingPathComponent("services/service-\(index).yaml"))
        }
        func commit(_ message: String) throws -> String {
            try remote.push(message)
            return try GitRepository.open(at: clone.path).resolve("HEAD").hex
        }
        var head = try commit("all")

        // The hosts register with their labels, then their agents go: DOWN.
        let registrar = try await HeliosStore.connect(servers: servers, chroot: chroot)
        for index in 0..<hosts {
            let host = "host-\(String(format: "%04d", index))"
            try await registrar.registerHost(host, agentID: "bench", info: HostInfo(hostname: host, agentVersion: "bench", dockerAPIVersion: nil),
                                             labels: ["role": "service"])
        }
        await registrar.close()

        let port = try DeployBenchmark.freePort()
        let master = try DeployBenchmark.startMaster(servers: servers, chroot: chroot, repo: bare.path, poll: "5s", port: port,
                                                     stateDirectory: work.appendingPathComponent("master").path)
        defer { master.terminate() }
        let store = try await HeliosStore.connect(servers: servers, chroot: chroot)
        func applied(_ revision: String, within timeout: Duration) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if try await store.syncRecord()?.lastAppliedRevision == revision { return }
                try await Task.sleep(for: .milliseconds(2))
            }
            fatalError("revision \(revision) not applied within \(timeout)")
        }

        // The first commit: the whole repository loaded, planned and written (the journal).
        var start = ContinuousClock.now
        try await DeployBenchmark.sync(port: port)
        try await applied(head, within: .seconds(600))
        let initial = milliseconds(since: start)
        let cluster = try await store.readCluster()
        let taskCount = cluster.config.tasks.values.reduce(0) { $0 + $1.count }
        precondition(cluster.config.jobs.count == jobs && taskCount == jobs * PlannerBenchmark.hostsPerDeployment,
                     "the master did not apply the whole repository")
        try await Task.sleep(for: .seconds(6)) // a poll and a drift check go by

        // One-file commits: a version bump of one job, from the push to the sync record naming it.
        var timings: [Double] = []
        for sample in 0..<samples {
            let index = (4242 + sample * 17) % jobs
            try Data(PlannerBenchmark.manifest(index, version: 2 + sample).utf8)
                .write(to: clone.appendingPathComponent("services/service-\(index).yaml"))
            head = try commit("bump \(index)")
            start = ContinuousClock.now
            try await DeployBenchmark.sync(port: port)
            try await applied(head, within: .seconds(120))
            timings.append(milliseconds(since: start))
        }
        let after = try await store.readCluster()
        precondition(after.config.jobs.count == jobs, "a bump left \(after.config.jobs.count) jobs")

        // The same kind of commit planned in full in this process: load the commit, plan the whole cluster.
        let repository = try GitRepository.open(at: clone.path)
        let revision = try repository.resolve("HEAD")
        let fullPlan = try measure(rounds: 3) { () -> Plan in
            let desired = try ManifestLoader.load(ManifestSource.commit(revision, in: repository)).get()
            return Planner.plan(desired: desired, actual: after.state, base: PlanBase(kind: .cluster), target: revision.hex, now: Date())
        }
        precondition(fullPlan.result.isEmpty, "the applied cluster differs from the repository")

        // Idle: nothing is committed, no host changes. What the ZooKeeper server receives meanwhile
        // is the leader's load (and both sessions' pings). One full read, measured the same way, next to it.
        let readStart = try serverPackets(servers)
        _ = try await store.readCluster()
        let fullRead = try serverPackets(servers) - readStart
        await store.close()
        try await Task.sleep(for: .seconds(2))
        let idleStart = try serverPackets(servers)
        try await Task.sleep(for: .seconds(idleSeconds))
        let idle = Double(try serverPackets(servers) - idleStart) / Double(idleSeconds)

        master.terminate()
        master.waitUntilExit()
        let median = AgentBenchmark.median(timings)
        print(String(format: "first commit → applied (everything: load, plan, journal)   %9.0f ms", initial))
        print(String(format: "one-file commit: planned in full in-process (load + plan)  %9.1f ms   (baseline)", fullPlan.milliseconds))
        print(String(format: "one-file commit → applied, through the master (webhook)    %9.1f ms   median of %d, %.1f–%.1f; %.2f× the full plan; target ≤ 100 ms",
                     median, timings.count, timings.min()!, timings.max()!, median / fullPlan.milliseconds))
        print(String(format: "ZooKeeper requests of one full cluster read                %9d", fullRead))
        print(String(format: "leader idle: ZooKeeper requests received per second        %9.1f      over %d s, pings included; target ≤ 10/s",
                     idle, idleSeconds))
        let results = Results(part: "Helios")
        let full = results.add("one-file commit: load + plan in full, in-process (10,000 jobs)", [fullPlan.milliseconds])
        results.add("one-file commit → applied through a master (10,000 jobs)", timings, baseline: full.name,
                    target: "≤ 100 ms", met: median <= 100)
        Results(part: "footprint").add("leader idle: ZooKeeper requests received", unit: "/s", [idle], target: "≤ 10/s",
                                       met: idle <= 10, note: "10,000 jobs, pings included, over \(idleSeconds) s")
    }

    /// The packets the ZooKeeper server has received (its `mntr` four-letter word).
    static func serverPackets(_ servers: String) throws -> Int {
        let address = servers.split(separator: ",").first.map(String.init) ?? servers
        let (host, port) = (address.split(separator: ":").first ?? "127.0.0.1", address.split(separator: ":").last ?? "2181")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec 3<>/dev/tcp/\(host)/\(port); printf mntr >&3; cat <&3"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("zk_packets_received") }),
              let count = Int(line.split(separator: "\t").last ?? "") else {
            fatalError("ZooKeeper's mntr did not answer: \(text)")
        }
        return count
    }
}
