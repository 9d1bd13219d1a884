// `make chaos`: a real cluster — a 3-member ZooKeeper ensemble, two masters, three agents, a
// git remote receiving a stream of commits — under faults injected at random from a printed
// seed, with invariants checked after each fault and at the end.
//
//   helios-chaos [--seed N] [--smoke] [--faults N] [--minutes M]
//
// --smoke: one fault of each kind (what `make test` runs). Exits 1 on any violation.
import DockerEngine
import Foundation
import Git
import HeliosStore
import HeliosTestSupport
import Synchronization

struct Options {
    var seed = UInt64.random(in: 1...999_999)
    var smoke = false
    var faults = 35
    var minutes = 14.0

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--smoke": smoke = true
            case "--seed": seed = try Self.value(rest.popFirst(), argument)
            case "--faults": faults = try Self.value(rest.popFirst(), argument)
            case "--minutes": minutes = try Self.value(rest.popFirst(), argument)
            default: throw UsageError(message: "unknown argument \(argument)")
            }
        }
    }

    static func value<T: LosslessStringConvertible>(_ text: String?, _ name: String) throws -> T {
        guard let text, let value = T(text) else { throw UsageError(message: "\(name) needs a number") }
        return value
    }
}

struct UsageError: Error, CustomStringConvertible {
    let message: String
    var description: String { "\(message)\nusage: helios-chaos [--seed N] [--smoke] [--faults N] [--minutes M]" }
}

func log(_ line: String) {
    let elapsed = ContinuousClock.now - runStart
    let stamp = String(format: "[%6.1fs] ", elapsed.seconds)
    FileHandle.standardOutput.write(Data((stamp + line + "\n").utf8)) // unbuffered: a CI log shows it at once
}

let runStart = ContinuousClock.now

func runChaos(_ options: Options) async throws -> Int {
    log("seed \(options.seed)\(options.smoke ? " (smoke: one fault of each kind)" : "")")
    var random = SeededGenerator(state: options.seed)
    let docker = DockerClient(socketPath: try TestServices.requireDocker())
    guard try await docker.imageExists(TestServices.image) else {
        throw SetupFailed(message: "the test image \(TestServices.image) is missing: scripts/test-images.sh builds it")
    }
    let cluster = try ChaosCluster(dockerSocket: try TestServices.requireDocker())
    interruptible.withLock { $0 = cluster }
    var report = Report()
    let monitor = Monitor()
    do {
        try await cluster.start()
        log("ensemble \(cluster.ensemble.connectString); masters \(cluster.masterNames); agents \(cluster.hosts)")
        let store = try await HeliosStore.connect(servers: cluster.ensemble.connectString, chroot: ChaosCluster.chroot)
        defer { Task { await store.close() } }
        let checker = Checker(store: store, docker: docker, repository: try GitRepository.open(at: cluster.git.remote),
                              hosts: cluster.hosts)
        let injector = FaultInjector(cluster: cluster, store: store)
        var stream = ManifestStream(hosts: cluster.hosts, image: TestServices.image)
        try stream.seed(cluster.git)
        let (first, missing) = await checker.settle(stream, timeout: .seconds(180))
        guard let first else { throw SetupFailed(message: "the first commit never settled: \(missing)") }
        var (checkpoint, initial) = try await checker.check(first, stream, previous: nil, dockerRestarted: false)
        report.checked(initial)
        log("cluster settled on the first commit; \(checkpoint.containers.count) containers")
        monitor.start(docker: docker, zooKeeper: cluster.ensemble.connectString, hosts: cluster.hosts,
                      agentIDs: { [cluster] in cluster.agentID($0) })

        let faults = options.smoke
            ? FaultKind.allCases.shuffled(using: &random)
            : (0..<options.faults).map { FaultKind.allCases[$0 % FaultKind.allCases.count] }.shuffled(using: &random)
        let deadline = runStart + .seconds(Int(options.minutes * 60))
        for (index, kind) in faults.enumerated() {
            guard ContinuousClock.now < deadline - .seconds(90) else {
                log("time is up: \(faults.count - index) faults not injected")
                break
            }
            let change = try stream.commitRandomChange(cluster.git, using: &random)
            log("fault \(index + 1)/\(faults.count): \(kind.rawValue), with a commit: \(change)")
            let started = ContinuousClock.now
            let injection = try await injector.inject(kind, using: &random)
            let leaderDeadline = injection.leaderClock + ChaosCluster.masterSessionTimeout + .seconds(5)
            var leaderAfter: Duration?
            while leaderAfter == nil && ContinuousClock.now < leaderDeadline {
                if await cluster.leader() != nil {
                    leaderAfter = ContinuousClock.now - injection.leaderClock
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let (snapshot, missing) = await checker.settle(stream, timeout: .seconds(150))
            let recovery = ContinuousClock.now - started
            var violations: [Violation] = []
            if leaderAfter == nil {
                violations.append(Violation(invariant: "a leader exists within the session timeout plus 5 s",
                                            detail: "none after \(kind.rawValue)"))
            }
            if let snapshot {
                let (next, found) = try await checker.check(snapshot, stream, previous: checkpoint,
                                                            dockerRestarted: injection.dockerRestarted)
                checkpoint = next
                violations += found
            } else {
                violations.append(Violation(invariant: "the cluster recovers", detail: "not settled 150 s after \(kind.rawValue): \(missing)"))
            }
            report.fault(kind, recovery: recovery, leader: leaderAfter, violations: violations)
            log("  \(injection.notes.joined(separator: "; ")); recovered in \(Report.seconds(recovery))"
                + (leaderAfter.map { ", leader after \(Report.seconds($0))" } ?? ", NO LEADER")
                + (violations.isEmpty ? "" : "\n  VIOLATIONS:\n" + violations.map { "    - \($0)" }.joined(separator: "\n")))
        }
        await monitor.stop()
        report.monitored(monitor)
        await cluster.stop()
    } catch {
        await monitor.stop()
        await cluster.stop()
        try? await removeContainers(docker, cluster.hosts)
        log("chaos run failed: \(error)\nlogs: \(cluster.keepLogs())")
        return 2
    }
    try? await removeContainers(docker, cluster.hosts)
    print(report.render(seed: options.seed))
    if report.violations.isEmpty {
        cluster.removeFiles()
        return 0
    }
    print("logs kept in \(cluster.keepLogs())")
    return 1
}

struct SetupFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

func removeContainers(_ docker: DockerClient, _ hosts: [String]) async throws {
    for host in hosts {
        for container in try await docker.listContainers(all: true, labels: ["helios.host=\(host)"]) {
            try? await docker.removeContainer(container.id, force: true)
        }
    }
}

/// The cluster to take down when the run is interrupted (Ctrl-C, a CI timeout): an ensemble,
/// masters and agents must not outlive it.
let interruptible = Mutex<ChaosCluster?>(nil)
let interruptions = Interruptions.install()

enum Interruptions {
    /// SIGINT and SIGTERM stop the cluster, then exit 130. Built outside top-level code, whose
    /// closures would belong to the main actor (the handler runs on a global queue).
    static func install() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in
                FileHandle.standardOutput.write(Data("interrupted: stopping the chaos cluster\n".utf8))
                let cluster = interruptible.withLock { $0 }
                let done = DispatchSemaphore(value: 0)
                Task {
                    await cluster?.stop()
                    if let cluster { try? await removeContainers(DockerClient(socketPath: cluster.dockerSocket), cluster.hosts) }
                    done.signal()
                }
                done.wait()
                exit(130)
            }
            source.resume()
            return source
        }
    }
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    exit(Int32(try await runChaos(options)))
} catch {
    print("\(error)")
    exit(2)
}
