// The planner benchmark: a generated manifest repository of 10,000 jobs and 2,000 hosts
// (about 50,000 host tasks), loaded from git and planned, next to the raw YAML parse of the
// same files measured in the same run.
import Foundation
import HeliosMaster
import HeliosStore
import Git
import HeliosManifests
import HeliosModel
import HeliosPlanner
import Yams
internal import CYaml

enum PlannerBenchmark {
    static let jobCount = Int(ProcessInfo.processInfo.environment["BENCH_JOBS"] ?? "") ?? 10_000
    static let hostCount = Int(ProcessInfo.processInfo.environment["BENCH_HOSTS"] ?? "") ?? 2_000
    static let hostsPerDeployment = 5
    static let rounds = 5

    static func manifest(_ index: Int, version: Int = 1) -> String {
        let hosts = (0..<hostsPerDeployment).map { "host-\(String(format: "%04d", (index * hostsPerDeployment + $0) % hostCount))" }
        return """
            kind: Job
            name: service-\(index)
            version: "\(version)"
            image: example/service:\(version)
            command: [/bin/service, --id, "\(index)"]
            env: { LOG_LEVEL: info, SERVICE_ID: "\(index)" }
            ports: { http: { internal: 8080 } }
            healthCheck: { http: { port: http, path: /healthz } }
            stopTimeout: 30s
            resources: { memory: 256Mi, cpuShares: 512 }
            ---
            kind: Deployment
            name: service-\(index)
            job: service-\(index)
            hosts: [\(hosts.joined(separator: ", "))]
            rollout: { parallelism: 2 }

            """
    }

    static func run() throws {
        // A git repository of one file per job and its deployment.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("helios-bench-\(UUID().uuidString.prefix(8))")
        let work = root.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("services"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        print("generating \(jobCount) jobs on \(hostCount) hosts in \(work.path)…")
        for index in 0..<jobCount {
            try Data(manifest(index).utf8).write(to: work.appendingPathComponent("services/service-\(index).yaml"))
        }
        try shell(["git", "init", "-q", "-b", "main"], in: work)
        try shell(["git", "-c", "user.name=bench", "-c", "user.email=bench@helios.invalid", "add", "-A"], in: work)
        try shell(["git", "-c", "user.name=bench", "-c", "user.email=bench@helios.invalid", "commit", "-qm", "all"], in: work)
        let repository = try GitRepository.open(at: work.path)
        let first = try repository.resolve("HEAD")
        let rssBefore = peakRSS()

        // Baseline: libyaml's event parser reading every file, nothing built (and, for
        // comparison, Yams composing them, which manifests no longer use).
        let texts = try ManifestSource.commit(first, in: repository).map { String(decoding: $0.content, as: UTF8.self) }
        let rawParse = measure { () -> Int in texts.reduce(0) { $0 + libyamlEvents($1) } }
        let yamsCompose = try measure(rounds: 2) { () -> Int in
            var nodes = 0
            for text in texts {
                let parser = try Parser(yaml: text)
                while try parser.nextRoot() != nil { nodes += 1 }
            }
            return nodes
        }

        // A full load from the commit: tree walk, blobs, preflight, parse, validation, resolution.
        let fullLoad = try measure { () -> DesiredState in
            try ManifestLoader.load(ManifestSource.commit(first, in: repository)).get()
        }
        let desired = fullLoad.result
        // Its two halves: reading the files from git, and making a desired state of them.
        let read = try measure { try ManifestSource.commit(first, in: repository) }
        let parsed = measure { try? ManifestLoader.load(read.result).get() }
        let emptyCluster = ClusterState(hosts: Dictionary(uniqueKeysWithValues: (0..<hostCount).map {
            ("host-\(String(format: "%04d", $0))", HostState(labels: ["role": "service"]))
        }))
        let fullPlan = measure { Planner.plan(desired: desired, actual: emptyCluster, base: PlanBase(kind: .empty), target: first.hex, now: Date()) }
        let taskCount = fullPlan.result.tasks.count

        // The cluster once that plan is applied, and a no-change plan against it.
        let applied = Planner.cluster(declaring: desired, hosts: emptyCluster.hosts)
        let steadyPlan = measure { Planner.plan(desired: desired, actual: applied, base: PlanBase(kind: .cluster), target: first.hex, now: Date()) }
        precondition(steadyPlan.result.isEmpty, "a plan against the applied state must be empty")
        let peakAfterFull = peakRSS()

        // A one-file commit.
        try Data(manifest(4242 % jobCount, version: 2).utf8).write(to: work.appendingPathComponent("services/service-\(4242 % jobCount).yaml"))
        try shell(["git", "-c", "user.name=bench", "-c", "user.email=bench@helios.invalid", "commit", "-qam", "one"], in: work)
        let second = try repository.resolve("HEAD")

        // The master's way: the tree diff, the manifest index and a plan of what changed.
        // Each round applies the commit and then takes it back (untimed), so every round does the same work.
        var index = ManifestIndex()
        _ = try index.load(ManifestSource.commit(first, in: repository)).get()
        var timings = (diff: [Double](), index: [Double](), plan: [Double]())
        var incremental: Plan?
        for _ in 0..<rounds {
            var start = ContinuousClock.now
            let changes = try ManifestSource.changes(from: first, to: second, in: repository)
            timings.diff.append(milliseconds(since: start))
            start = ContinuousClock.now
            let change = try index.apply(changes).get()
            timings.index.append(milliseconds(since: start))
            start = ContinuousClock.now
            incremental = Planner.plan(desired: index.desired, actual: applied, change: change,
                                       base: PlanBase(kind: .cluster), target: second.hex, now: Date())
            timings.plan.append(milliseconds(since: start))
            _ = try index.apply(ManifestSource.changes(from: second, to: first, in: repository)).get()
        }
        _ = try index.apply(ManifestSource.changes(from: first, to: second, in: repository)).get()
        let fullWay = measure { Planner.plan(desired: index.desired, actual: applied, base: PlanBase(kind: .cluster), target: second.hex, now: Date()) }
        precondition(incremental!.changes == fullWay.result.changes && incremental!.tasks == fullWay.result.tasks,
                     "the plan of the change must be the full plan")
        precondition(fullWay.result.summary == PlanSummary(add: 1, change: 1, remove: 1, replace: 1), "\(fullWay.result.summary)")
        let oneFile = (diff: timings.diff.min()!, index: timings.index.min()!, plan: timings.plan.min()!)
        let oneFileTotal = zip(zip(timings.diff, timings.index), timings.plan).map { $0.0 + $0.1 + $1 }.min()!

        func row(_ label: String, _ milliseconds: Double, _ note: String = "") {
            let ratio = milliseconds / rawParse.milliseconds
            print(label.padding(toLength: 54, withPad: " ", startingAt: 0)
                + String(format: "%10.1f ms %8.3f× raw parse  %@", milliseconds, ratio, note))
        }
        print("""

            Planner benchmark: \(jobCount) jobs, \(jobCount) deployments, \(hostCount) hosts, \(taskCount) host tasks
            (best of \(rounds); ratios against libyaml reading the same \(texts.count) files, measured in this run)
            """)
        row("raw YAML parse (baseline, libyaml events)", rawParse.milliseconds, "\(rawParse.result) events")
        row("Yams compose of the same files, for comparison", yamsCompose.milliseconds, "\(yamsCompose.result) documents")
        row("full load from git (tree, blobs, validate)", fullLoad.milliseconds)
        row("  of which: tree walk and blob reads", read.milliseconds)
        row("  of which: parse, validate, resolve", parsed.milliseconds)
        row("full plan (empty cluster → everything)", fullPlan.milliseconds, "target < 1000 ms")
        row("steady plan (cluster in sync)", steadyPlan.milliseconds)
        row("one-file commit: planned in full, for comparison", fullWay.milliseconds)
        row("one-file commit: tree diff and read the blob", oneFile.diff)
        row("one-file commit: parse, update the index", oneFile.index)
        row("one-file commit: plan what changed", oneFile.plan)
        row("one-file commit: diff + index + plan", oneFileTotal, "target < 50 ms")
        print(String(format: "\npeak RSS: %.0f MiB after the full load and plans (%.0f MiB before loading; target < 300 MiB)",
                     peakAfterFull, rssBefore))
        let cold = Results(part: "cold load")
        let baseline = cold.add("libyaml event parse of the \(jobCount)-job repository", [rawParse.milliseconds], note: "best of \(rounds)")
        cold.add("\(jobCount)-job repository: full load from git", [fullLoad.milliseconds], baseline: baseline.name,
                 target: "≤ 1000 ms", met: fullLoad.milliseconds <= 1000, note: "best of \(rounds): tree, blobs, parse, validate, resolve")
        cold.add("of which: the tree walk and blob reads", [read.milliseconds], note: "best of \(rounds), the blobs on \(ProcessInfo.processInfo.activeProcessorCount) cores")
        cold.add("of which: parse, validate, resolve", [parsed.milliseconds], note: "best of \(rounds), on \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let planner = Results(part: "planner")
        planner.add("full plan: empty cluster → \(taskCount) tasks", [fullPlan.milliseconds], target: "< 1000 ms",
                    met: fullPlan.milliseconds < 1000, note: "best of \(rounds)")
        planner.add("one-file commit: diff + index + plan", [oneFileTotal], target: "< 50 ms", met: oneFileTotal < 50,
                    note: "best of \(rounds)")
        planner.add("peak RSS after the full load and plans", unit: "MiB", [peakAfterFull], target: "< 300 MiB", met: peakAfterFull < 300)

        // The dashboard on this cluster, every task RUNNING, one rolling out.
        var running = applied
        for (host, tasks) in running.config.tasks {
            running.statuses[host] = tasks.mapValues { TaskStatus(jobID: $0.jobID, goal: .start, state: .running) }
        }
        let snapshot = ConfigSnapshot(state: running, hostDirectories: Set(running.config.tasks.keys))
        print("\nDashboard, server-side render of \(jobCount) jobs on \(hostCount) hosts (best of \(rounds); targets: overview ≤ 200 ms, every page < 500 KB)")
        let dashboard = Results(part: "dashboard")
        for page in Dashboard.measuredPages {
            let timed = measure { Dashboard.render(page: page, of: snapshot) }
            let kilobytes = Double(timed.result.utf8.count) / 1024
            dashboard.add("\(page) page: server-side render", [timed.milliseconds],
                          target: page == "overview" ? "≤ 200 ms, < 500 KB" : "< 500 KB",
                          met: (page != "overview" || timed.milliseconds <= 200) && kilobytes < 500,
                          note: String(format: "best of %d, %.0f KB", rounds, kilobytes))
            print(page.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%10.1f ms %10.1f KB", timed.milliseconds, Double(timed.result.utf8.count) / 1024))
        }
    }
}

/// How many events libyaml's parser reads from `text`: the floor of any YAML load.
func libyamlEvents(_ text: String) -> Int {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { return 0 }
    defer { yaml_parser_delete(&parser) }
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { buffer in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var events = 0
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return events }
            defer { yaml_event_delete(&event) }
            events += 1
            if event.type == YAML_STREAM_END_EVENT { return events }
        }
    }
}
