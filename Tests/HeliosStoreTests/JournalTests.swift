import Foundation
import Synchronization
import HeliosModel
import HeliosPlanner
@testable import HeliosStore
import HeliosTestSupport
import Testing
import ZooKeeper

/// A desired state whose plan is far larger than one ZooKeeper transaction may be.
func largeDesiredState(jobs: Int = 600, hostsPerJob: Int = 5) -> DesiredState {
    var desired = DesiredState()
    for index in 0..<jobs {
        var job = Job(name: "service-\(index)", version: "1", image: "example/service:1",
                      command: ["/bin/service", "--id", "\(index)", "--listen", "0.0.0.0:8080"])
        job.env = ["LOG_LEVEL": "info", "SERVICE_ID": "\(index)", "REGION": "loopback-1"]
        desired.jobs[job.id] = job
        let hosts = (0..<hostsPerJob).map { "host-\((index * hostsPerJob + $0) % 400)" }
        desired.deployments["service-\(index)"] = Deployment(name: "service-\(index)", jobID: job.id, hosts: hosts)
    }
    return desired
}

/// A small state to start from, so that "the old state" is not just "empty".
let smallDesiredState: DesiredState = {
    let job = Job(name: "old", version: "1", image: "busybox")
    return DesiredState(jobs: [job.id: job], deployments: ["old": Deployment(name: "old", jobID: job.id, hosts: ["host-1"])])
}()

func planning(_ desired: DesiredState, against snapshot: ConfigSnapshot) -> Plan {
    var desired = desired
    desired.settings.maxPrune = .percent(100)
    return Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "test", now: Date())
}

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct JournalTests {
    func connect(_ chroot: String) async throws -> HeliosStore {
        try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
    }

    /// Whether `config` is exactly what `desired` declares, tasks included.
    func holds(_ config: ClusterConfig, _ desired: DesiredState) -> Bool {
        config == Planner.cluster(declaring: desired).config
    }

    @Test func aPlanLargerThanOneTransactionIsAppliedWholeAndNoReaderSeesHalfOfIt() async throws {
        let chroot = TestServices.uniqueChroot("journal")
        let writer = try await connect(chroot)
        let reader = try await connect(chroot)
        try await writer.apply(planning(smallDesiredState, against: try await writer.readCluster()), to: try await writer.readCluster())

        let large = largeDesiredState()
        let snapshot = try await writer.readCluster()
        let plan = planning(large, against: snapshot)
        let operations = HeliosStore.operations(for: plan, checkIndex: snapshot.checkIndex,
                                                hostDirectories: snapshot.hostDirectories)
        // ZooKeeper itself refuses the plan as one transaction: the journal is needed. (It closes
        // the connection on such a request: a session of its own, so the writer's stays up.)
        let probe = try await connect(chroot)
        await #expect(throws: (any Error).self) { try await probe.session.transaction(operations) }
        await probe.close()
        #expect(HeliosStore.transactions(of: operations).count > 2)

        // A reader polls while the writer applies: every snapshot is the old state or the new one.
        let seen = Mutex<[Int]>([])
        let reading = Task {
            while !Task.isCancelled {
                let config = try await reader.readCluster().config
                let whole = holds(config, smallDesiredState) || holds(config, large)
                #expect(whole, "a snapshot with \(config.jobs.count) jobs")
                seen.withLock { $0.append(config.jobs.count) }
            }
        }
        let newIndex = try await writer.apply(plan, to: snapshot)
        let caughtUp = await eventually { seen.withLock { $0.last } == large.jobs.count }
        reading.cancel()
        do {
            try await reading.value
        } catch is CancellationError {
        } catch {
            Issue.record("the reader failed: \(error)")
        }
        #expect(caughtUp)

        #expect(newIndex == snapshot.checkIndex + 1)
        let after = try await reader.readCluster()
        let holdsLarge = holds(after.config, large)
        #expect(holdsLarge)
        #expect(after.checkIndex == newIndex)
        #expect(try await writer.session.children(Paths.journal).isEmpty)
        await writer.close()
        await reader.close()
    }

    /// A large plan's journal written and committed, as a writer that then lost the commit's
    /// reply (or died) leaves it: not replayed. Returns the entry and its chunks.
    func committedButNotReplayed(_ store: HeliosStore, _ desired: DesiredState) async throws -> (String, [[TransactionOperation]]) {
        let snapshot = try await store.readCluster()
        let operations = HeliosStore.operations(for: planning(desired, against: snapshot), to: snapshot)
        let chunks = HeliosStore.transactions(of: Array(operations.dropFirst().dropLast()))
        #expect(chunks.count > 1)
        let entry = "\(snapshot.checkIndex)-test"
        try await store.session.create(Paths.journalEntry(entry), data: Data(), mode: .persistent)
        for (index, chunk) in chunks.enumerated() {
            try await store.session.create(Paths.journalChunk(entry, index), data: JournalCodec.encode(chunk), mode: .persistent)
        }
        try await store.session.transaction([.check(path: Paths.configVersion, version: snapshot.checkIndex),
                                             .create(path: Paths.journalCommitted(entry), data: Data(), mode: .persistent),
                                             HeliosStore.bump(from: snapshot.checkIndex)])
        return (entry, chunks)
    }

    @Test func anAgentNeverReadsTheTasksOfAPlanHalfReplayed() async throws {
        let store = try await connect(TestServices.uniqueChroot("journal-agent"))
        let desired = largeDesiredState()
        let (entry, chunks) = try await committedButNotReplayed(store, desired)
        // Half of it replayed, as by a writer that died in the middle.
        try await store.session.transaction([.check(path: Paths.journalCommitted(entry), version: -1)] + chunks[0])
        let events = Recorder(store.events())
        await #expect(throws: HeliosStoreError.self) { try await store.tasks(of: "host-1", watch: true) }
        // Any reader of the whole cluster finishes it; its end wakes the agent, which then reads it whole.
        let cluster = try await store.readCluster()
        #expect(holds(cluster.config, desired))
        #expect(await eventually { events.all.contains(.journalFinished) }, "\(events.all)")
        #expect(try await store.tasks(of: "host-1") == cluster.config.tasks["host-1"] ?? [:])
        await store.close()
    }

    @Test func aCommitWhoseReplyWasLostIsFinishedNotDiscarded() async throws {
        let store = try await connect(TestServices.uniqueChroot("journal-lost-reply"))
        let desired = largeDesiredState()
        let (entry, chunks) = try await committedButNotReplayed(store, desired)
        // What the writer does when its commit's reply is lost: ask whether it committed, and finish it.
        #expect(await store.committed(entry) == true)
        try await store.replay(entry, chunks)
        #expect(try await store.session.children(Paths.journal).isEmpty)
        let cluster = try await store.readCluster()
        #expect(holds(cluster.config, desired))
        #expect(await store.committed("nothing-such") == false)
        await store.close()
    }

    @Test func aChunkThatFailsForARealReasonIsReportedNotTakenAsAppliedBefore() async throws {
        let store = try await connect(TestServices.uniqueChroot("journal-real-failure"))
        let desired = largeDesiredState()
        let (entry, chunks) = try await committedButNotReplayed(store, desired)
        // Another writer made a node the second chunk creates, with other data: that chunk
        // fails with "node exists", but it was never applied.
        var made = false
        for case .create(let path, _, _) in chunks[1] where !made {
            made = (try? await store.session.create(path, data: Data("stray".utf8), mode: .persistent)) != nil
        }
        try #require(made, "no node of the chunk could be made ahead of it")
        let error = await #expect(throws: HeliosStoreError.self) { try await store.replay(entry, chunks) }
        guard case .replayFailed(entry, 1, _, let cause)? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(cause.contains("ZNODEEXISTS"), "\(cause)")
        // What could be applied was, and the journal is finished: readers go on, the next plan
        // corrects the rest.
        #expect(try await store.session.children(Paths.journal).isEmpty)
        guard case .create(let other, let data, _) = try #require(chunks[0].last) else { return }
        #expect(try await store.session.get(other).data == data)
        await store.close()
    }

    @Test func aStaleLargePlanIsRefusedAndLeavesNoJournal() async throws {
        let chroot = TestServices.uniqueChroot("journal")
        let store = try await connect(chroot)
        let snapshot = try await store.readCluster()
        try await store.apply(planning(smallDesiredState, against: snapshot), to: snapshot)
        await #expect(throws: HeliosStoreError.self) {
            try await store.apply(planning(largeDesiredState(), against: snapshot), to: snapshot)
        }
        let holdsSmall = holds(try await store.readCluster().config, smallDesiredState)
        #expect(holdsSmall)
        #expect(try await store.session.children(Paths.journal).isEmpty)
        await store.close()
    }

    @Test func concurrentWritersLoseNoUpdate() async throws {
        let chroot = TestServices.uniqueChroot("writers")
        let stores = try await (0..<6).asyncMap { _ in try await connect(chroot) }
        let start = try await stores[0].readCluster().checkIndex
        // Each writer adds its own deployment to whatever it reads, retrying when it was stale.
        let retries = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    var stale = 0
                    for round in 0..<3 {
                        while true {
                            let snapshot = try await store.readCluster()
                            var desired = DesiredState(jobs: snapshot.config.jobs, deployments: snapshot.config.deployments)
                            let job = Job(name: "writer-\(index)", version: "\(round)", image: "busybox")
                            desired.jobs[job.id] = job
                            desired.deployments["writer-\(index)"] = Deployment(name: "writer-\(index)", jobID: job.id, hosts: ["h\(index)"])
                            do {
                                try await store.apply(planning(desired, against: snapshot), to: snapshot)
                                break
                            } catch HeliosStoreError.stale {
                                stale += 1
                            }
                        }
                    }
                    return stale
                }
            }
            return try await group.reduce(0, +)
        }
        let after = try await stores[0].readCluster()
        // Every write of every writer is there: 6 deployments at their last round, 18 applies.
        #expect(after.config.deployments.keys.sorted() == (0..<6).map { "writer-\($0)" })
        #expect(after.config.deployments.values.allSatisfy { $0.jobID.version == "2" })
        #expect(after.checkIndex == start + 18)
        #expect(retries > 0, "the writers never raced: the test proves nothing")
        for store in stores { await store.close() }
    }

    /// Kills a writer at each failpoint of the journal: a reader finds the old state when it
    /// died before the commit, the new one after; nothing is half applied either way.
    @Test(arguments: [("journal-written", false), ("journal-committed", true), ("journal-replaying", true)])
    func aWriterKilledMidApplyLeavesTheOldOrTheNewState(failpoint: String, committed: Bool) async throws {
        let servers = try TestServices.requireZooKeeper()
        let chroot = TestServices.uniqueChroot("journal-crash")
        let store = try await connect(chroot)
        try await store.apply(planning(smallDesiredState, against: try await store.readCluster()), to: try await store.readCluster())

        let directory = try TemporaryDirectory("journal-crash")
        defer { directory.remove() }
        let writer = try Daemon(name: "writer", executable: testExecutable,
                                arguments: childTestArguments("JournalWriterProcess"), directory: directory,
                                environment: ["HELIOS_TEST_CHILD": "journal-writer", "HELIOS_TEST_ZK": servers,
                                              "HELIOS_TEST_CHROOT": chroot, "HELIOS_FAILPOINT": failpoint])
        let reached = await eventually(timeout: .seconds(60)) { writer.log.contains("failpoint \(failpoint) reached") }
        try #require(reached, "the writer never reached \(failpoint): \(writer.log)")
        writer.kill() // SIGKILL: no chance to clean up

        let after = try await store.readCluster()
        let expected = committed ? "the new state" : "the old state"
        let holdsExpected = holds(after.config, committed ? largeDesiredState() : smallDesiredState)
        #expect(holdsExpected, "not \(expected) but \(after.config.jobs.count) jobs: \(writer.log)")
        if committed {
            #expect(try await store.session.children(Paths.journal).isEmpty)
        }
        // The cluster goes on: the next plan applies, and a dead journal goes with it.
        let next = try await store.readCluster()
        try await store.apply(planning(smallDesiredState, against: next), to: next)
        _ = try await store.readCluster()
        let holdsSmall = holds(try await store.readCluster().config, smallDesiredState)
        #expect(holdsSmall)
        #expect(try await store.session.children(Paths.journal).isEmpty)
        await store.close()
    }
}

/// Not a test of its own: the writer process `aWriterKilledMidApplyLeavesTheOldOrTheNewState`
/// starts and kills. Runs only in that child process.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HELIOS_TEST_CHILD"] == "journal-writer"))
struct JournalWriterProcess {
    @Test func applyTheLargePlan() async throws {
        let environment = ProcessInfo.processInfo.environment
        let store = try await HeliosStore.connect(servers: environment["HELIOS_TEST_ZK"]!, chroot: environment["HELIOS_TEST_CHROOT"]!)
        let snapshot = try await store.readCluster()
        try await store.apply(planning(largeDesiredState(), against: snapshot), to: snapshot)
        await store.close()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
