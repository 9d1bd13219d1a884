import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import HeliosMaster
import Git
import HeliosModel
import HeliosPlanner
import HeliosStore
import HeliosTestSupport
import Hummingbird
import Logging
import Testing

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct GitSyncTests {
    static let job = "kind: Job\nname: web\nversion: '1'\nimage: busybox\n"
    static let deployment = "kind: Deployment\nname: web\njob: web\nhosts: [a]\n"
    /// A second job and deployment on host a, for commits that change only them.
    static let api = "kind: Job\nname: api\nversion: '1'\nimage: busybox\n---\nkind: Deployment\nname: api\njob: api\nhosts: [a]\n"

    struct Fixture {
        let git: GitFixture
        let store: HeliosStore
        let sync: GitSync
        let metrics = MasterMetrics()
        /// The master's picture of the cluster, which `sync` keeps (a rollout controller may share it).
        let picture = ClusterPicture()

        init(verifier: CommitVerifier? = nil) async throws {
            git = try GitFixture()
            store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(),
                                                  chroot: TestServices.uniqueChroot("master"))
            sync = try GitSync(remote: git.remote, branch: "main", verifier: verifier, mirrorPath: git.directory.path + "/mirror.git",
                               store: store, logger: Logger(label: "test"), metrics: metrics, picture: picture)
            // Host a's agent is UP: rollouts wait for it (a host never registered would be skipped).
            try await store.registerHost("a", agentID: "test", info: HostInfo(hostname: "a", agentVersion: "test", dockerAPIVersion: nil))
        }

        func close() async {
            await store.close()
            git.remove()
        }

        /// The master's HTTP API on a free loopback port, in this process; cancel the task to stop it.
        func serveAPI() throws -> (Task<Void, any Error>, port: Int) {
            let port = try freeLoopbackPort()
            let app = Application(router: MasterAPI(store: store, leadership: Leadership(metrics: metrics)).router(),
                                  configuration: .init(address: .hostname("127.0.0.1", port: port)))
            return (Task { try await app.runService() }, port)
        }
    }

    @Test func aCommitIsAppliedAndAnUnchangedBranchIsNotPlannedAgain() async throws {
        let fixture = try await Fixture()
        let head = try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment])
        let record = try #require(try await fixture.sync.sync())
        // The deployment's tasks roll out: the record says PROGRESSING until the rollout is done.
        #expect(record.status == .progressing)
        #expect(record.lastAppliedRevision == head)
        let snapshot = try await fixture.store.readCluster()
        #expect(snapshot.config.deployments["web"]?.hosts == ["a"])
        #expect(snapshot.config.tasks["a"]?.count == 1)
        #expect(snapshot.rollouts["web"]?.state == .rollingOut)
        #expect(snapshot.rollouts["web"]?.batches == [["a"]])
        #expect(snapshot.rollouts["web"]?.revision == head)

        #expect(try await fixture.store.appliedRevisions().map(\.revision) == [head])
        let index = try await fixture.store.readCluster().checkIndex
        #expect(try await fixture.sync.sync() == nil)
        #expect(try await fixture.store.readCluster().checkIndex == index)
        await fixture.close()
    }

    @Test func anInvalidCommitChangesNothingAndIsNotRetried() async throws {
        let fixture = try await Fixture()
        let good = try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment])
        try await fixture.sync.sync()
        let before = try await fixture.store.readCluster()

        let bad = try fixture.git.commit(["web.yaml": Self.job.replacingOccurrences(of: "image", with: "imgae")
                                             + "---\n" + Self.deployment])
        let record = try #require(try await fixture.sync.sync())
        #expect(record.status == .failed)
        #expect(record.lastAppliedRevision == good)
        #expect(record.lastAttemptedRevision == bad)
        #expect(record.diagnostics.contains("web.yaml:4:1: error: unknown field 'imgae' in Job 'web' (did you mean 'image'?)"))
        let after = try await fixture.store.readCluster()
        #expect(after.checkIndex == before.checkIndex)
        #expect(after.config == before.config)
        #expect(try await fixture.sync.sync() == nil, "a failed commit was retried")

        // The next commit is tried again and applies.
        let fixed = try fixture.git.commit(["web.yaml": Self.job.replacingOccurrences(of: "'1'", with: "'2'")
                                               + "---\n" + Self.deployment])
        #expect(try await fixture.sync.sync()?.lastAppliedRevision == fixed)
        let applied = try await fixture.store.readCluster()
        #expect(applied.config.deployments["web"]?.jobID.version == "2")
        // The job before stays while the rollout may still return to it.
        #expect(applied.config.jobs.keys.map(\.version).sorted() == ["1", "2"])
        #expect(applied.rollouts["web"]?.previousJobID?.version == "1")
        await fixture.close()
    }

    @Test func onlyTheManifestsBelowTheSubpathCount() async throws {
        let fixture = try await Fixture()
        let sync = try GitSync(remote: fixture.git.remote, branch: "main", subpath: "prod",
                               mirrorPath: fixture.git.directory.path + "/prod-mirror.git", store: fixture.store,
                               logger: Logger(label: "test"))
        // Another environment's folder, broken: not this master's business.
        try fixture.git.commit(["prod/web.yaml": Self.job + "---\n" + Self.deployment,
                                "staging/web.yaml": "kind: Job\nname: web\n"])
        let record = try #require(try await sync.sync())
        #expect(record.status == .progressing, "\(record.diagnostics)")
        let config = try await fixture.store.readCluster().config
        #expect(config.jobs.keys.map(\.description).allSatisfy { $0.hasPrefix("web:1:") })
        #expect(config.deployments.keys.sorted() == ["web"])
        await fixture.close()
    }

    @Test func driftIsReportedAndWithSelfHealReverted() async throws {
        let fixture = try await Fixture()
        // selfHeal off: a change made outside git is reported, not touched.
        try fixture.git.commit(["helios.yaml": "selfHeal: false\n", "web.yaml": Self.job + "---\n" + Self.deployment])
        #expect(try await fixture.sync.sync()?.status == .progressing)
        // Host a's agent reports the job running: the rollout controller ends the rollout.
        let jobID = try #require(try await fixture.store.readCluster().config.deployments["web"]?.jobID)
        try await fixture.store.setTaskStatus(TaskStatus(jobID: jobID, goal: .start, state: .running), host: "a")
        try await RolloutController(store: fixture.store, logger: Logger(label: "test")).step(now: Date())
        #expect(try await fixture.store.readCluster().rollouts["web"]?.state == .done)
        #expect(try await fixture.store.syncRecord()?.status == .synced)
        #expect(try await fixture.sync.checkDrift() == nil, "nothing drifted yet")
        var snapshot = try await fixture.store.readCluster()
        var outside = try #require(snapshot.config.deployments["web"])
        outside.hosts = ["a", "b"]
        var desired = DesiredState(jobs: snapshot.config.jobs, deployments: ["web": outside])
        desired.settings.maxPrune = .percent(100)
        try await fixture.store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                                   target: "by hand", now: Date()), to: snapshot)

        let reported = try #require(try await fixture.sync.checkDrift())
        #expect(reported.status == .outOfSync)
        #expect(reported.reason == .drift)
        #expect(reported.changes.contains { $0.action == "updateDeployment" && $0.subject == "web"
            && $0.fields.contains(FieldChange(field: "hosts", old: "a, b", new: "a")) }, "\(reported.changes)")
        #expect(try await fixture.store.readCluster().config.deployments["web"]?.hosts == ["a", "b"])

        // selfHeal on (the default): the next look reverts it.
        try fixture.git.commit(["helios.yaml": nil])
        try await fixture.sync.sync()
        snapshot = try await fixture.store.readCluster()
        try await fixture.store.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster),
                                                   target: "by hand", now: Date()), to: snapshot)
        let healed = try #require(try await fixture.sync.checkDrift())
        #expect(healed.summary.contains("self-healed"), "\(healed.summary)")
        #expect(try await fixture.store.readCluster().config.deployments["web"]?.hosts == ["a"])
        #expect(try await fixture.sync.checkDrift() == nil, "still drifting after the revert")
        await fixture.close()
    }

    @Test func aDriftCheckMidRolloutLeavesTheJobARollbackReturnsTo() async throws {
        let fixture = try await Fixture()
        let controller = RolloutController(store: fixture.store, logger: Logger(label: "test"), picture: fixture.picture)
        try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment])
        try await fixture.sync.sync()
        let v1 = try #require(try await fixture.store.rolloutStatuses()["web"]?.jobID)
        try await fixture.store.setTaskStatus(TaskStatus(jobID: v1, goal: .start, state: .running), host: "a")
        try await controller.step(now: Date())
        // Version 2 goes to host a at once (one batch); git no longer declares version 1.
        try fixture.git.commit(["web.yaml": Self.job.replacingOccurrences(of: "'1'", with: "'2'") + "---\n" + Self.deployment])
        #expect(try await fixture.sync.sync()?.status == .progressing)
        await fixture.sync.hostsChanged() // say, a host registered: the drift check plans the whole cluster
        #expect(try await fixture.sync.checkDrift() == nil, "the cluster is as git and the rollout want it")
        let v2 = try #require(try await fixture.store.rolloutStatuses()["web"]?.jobID)
        try await fixture.store.setTaskStatus(TaskStatus(jobID: v2, goal: .start, state: .failed), host: "a")
        try await controller.step(now: Date())
        let cluster = try await fixture.store.readCluster()
        #expect(cluster.rollouts["web"]?.state == .rolledBack, "\(cluster.rollouts["web"]?.error ?? "")")
        #expect(cluster.config.tasks["a"].map { Array($0.keys) } == [v1])
        await fixture.close()
    }

    @Test func aCommitAfterOneThisMasterAppliedIsPlannedWithoutReadingTheCluster() async throws {
        let fixture = try await Fixture()
        let api = Self.api
        try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment, "api.yaml": api])
        try await fixture.sync.sync()
        let reads = fixture.store.clusterReads
        // A one-file commit: planned against the cluster as this master left it.
        try fixture.git.commit(["api.yaml": api.replacingOccurrences(of: "'1'", with: "'2'")])
        let bumped = try #require(try await fixture.sync.sync())
        #expect(bumped.status == .progressing, "\(bumped)")
        #expect(fixture.store.clusterReads == reads, "the commit read the whole cluster")
        #expect(try await fixture.sync.checkDrift() == nil, "the drift check read what this master just wrote")
        #expect(fixture.store.clusterReads == reads)
        var cluster = try await fixture.store.readCluster()
        #expect(cluster.config.deployments["api"]?.jobID.version == "2")
        #expect(cluster.config.deployments["web"]?.jobID.version == "1")

        // Another writer moves the cluster: the next commit finds out (the check index) and reads it.
        var forced = try #require(cluster.config.deployments["web"])
        forced.goal = .stop
        var desired = DesiredState(jobs: cluster.config.jobs, deployments: cluster.config.deployments)
        desired.deployments["web"] = forced
        try await fixture.store.apply(Planner.plan(desired: desired, actual: cluster.state, base: PlanBase(kind: .cluster),
                                                   target: "by hand", now: Date()), to: cluster)
        let before = fixture.store.clusterReads
        try fixture.git.commit(["api.yaml": api.replacingOccurrences(of: "'1'", with: "'3'")])
        let third = try #require(try await fixture.sync.sync())
        #expect(third.lastAppliedRevision != bumped.lastAppliedRevision)
        #expect(fixture.store.clusterReads > before, "a stale picture of the cluster was planned against")
        cluster = try await fixture.store.readCluster()
        #expect(cluster.config.deployments["api"]?.jobID.version == "3")
        #expect(cluster.config.deployments["web"]?.goal == .start, "the full plan after the conflict reverts the forced change")
        await fixture.close()
    }

    @Test func aCommitAfterTheRolloutControllersStepIsPlannedWithoutReadingTheCluster() async throws {
        let fixture = try await Fixture()
        let api = Self.api
        try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment, "api.yaml": api])
        try await fixture.sync.sync()
        let reads = fixture.store.clusterReads
        // Host a runs web: the rollout controller ends its rollout, a write that moves the check index.
        let web = try #require(try await fixture.store.rolloutStatuses()["web"]?.jobID)
        try await fixture.store.setTaskStatus(TaskStatus(jobID: web, goal: .start, state: .running), host: "a")
        try await RolloutController(store: fixture.store, logger: Logger(label: "test"), picture: fixture.picture).step(now: Date())
        #expect(try await fixture.store.rolloutStatuses()["web"]?.state == .done)
        #expect(fixture.store.clusterReads == reads, "the rollout step read the whole cluster git sync had just written")
        // The next commit is planned on the cluster as that step left it: no conflict, no full read.
        try fixture.git.commit(["api.yaml": api.replacingOccurrences(of: "'1'", with: "'2'")])
        let bumped = try #require(try await fixture.sync.sync())
        #expect(bumped.status == .progressing, "\(bumped)")
        #expect(fixture.store.clusterReads == reads, "the commit after the rollout step read the whole cluster")
        let cluster = try await fixture.store.readCluster()
        #expect(cluster.config.deployments["api"]?.jobID.version == "2")
        #expect(cluster.rollouts["web"]?.state == .done, "the commit undid the rollout step")
        await fixture.close()
    }

    @Test func aStalledRemoteFailsTheSyncWithinTheFetchTimeoutVisiblyAndAWorkingOneClearsIt() async throws {
        let fixture = try await Fixture()
        try fixture.git.commit(["web.yaml": Self.job])
        try await fixture.sync.sync()
        let server = try StallingServer()
        defer { server.stop() }
        let stalled = try GitSync(remote: server.url, branch: "main", fetchTimeout: .seconds(2),
                                  mirrorPath: fixture.git.directory.path + "/stalled.git", store: fixture.store,
                                  logger: Logger(label: "test"), metrics: fixture.metrics)
        let start = ContinuousClock.now
        await #expect(throws: GitError.self) { try await stalled.sync() }
        #expect(ContinuousClock.now - start < .seconds(30))
        let record = try #require(try await fixture.store.syncRecord())
        #expect(record.reason == .fetchFailed && record.status == .failed, "\(record)")
        #expect(record.summary.contains("no answer from the remote"), "\(record.summary)")
        #expect(record.lastAppliedRevision != nil, "the revision applied is kept")
        #expect(fixture.metrics.render().contains("helios_git_fetch_failing 1\n"))
        // A master that fetches fine (this one, or the next leader) takes the failure back.
        try fixture.git.commit(["web.yaml": Self.job.replacingOccurrences(of: "'1'", with: "'2'")])
        let working = try GitSync(remote: fixture.git.remote, branch: "main", mirrorPath: fixture.git.directory.path + "/mirror.git",
                                  store: fixture.store, logger: Logger(label: "test"), metrics: fixture.metrics)
        #expect(try await working.sync()?.reason != .fetchFailed)
        #expect(try await fixture.store.syncRecord()?.reason != .fetchFailed)
        #expect(fixture.metrics.render().contains("helios_git_fetch_failing 0\n"))
        await fixture.close()
    }

    @Test func pollIntervalInHeliosYamlSetsHowOftenTheLeaderLooks() async throws {
        let fixture = try await Fixture()
        try fixture.git.commit(["web.yaml": Self.job])
        try await fixture.sync.sync()
        #expect(await fixture.sync.pollInterval(or: .seconds(5)) == .seconds(5))
        try fixture.git.commit(["helios.yaml": "pollInterval: 1500ms\n"])
        try await fixture.sync.sync()
        #expect(await fixture.sync.pollInterval(or: .seconds(5)) == .milliseconds(1500))
        await fixture.close()
    }

    @Test func anExpiredJobIsUndeployedAtItsTimeAndTheNextCommitDeploys() async throws {
        let fixture = try await Fixture()
        // A job expiring in 20 s; the leader's looks are made at chosen instants (its clock is injected).
        let expires = Date().addingTimeInterval(20)
        let expiring = Self.job + "expires: \(expires.formatted(.iso8601))\n"
        // selfHeal off: expiry is no drift, it happens anyway.
        try fixture.git.commit(["helios.yaml": "selfHeal: false\n", "web.yaml": expiring + "---\n" + Self.deployment])
        #expect(try await fixture.sync.sync()?.lastAppliedRevision != nil)
        #expect(try await fixture.store.readCluster().config.deployments["web"] != nil)
        #expect(try await fixture.sync.checkDrift(now: expires.addingTimeInterval(-1)) == nil, "expired early")

        let record = try #require(try await fixture.sync.checkDrift(now: expires))
        #expect(record.reason == .expired, "\(record)")
        #expect(record.summary.contains("expired"), "\(record.summary)")
        let cluster = try await fixture.store.readCluster()
        #expect(cluster.config.deployments.isEmpty && cluster.config.jobs.isEmpty && cluster.config.tasks.isEmpty)
        #expect(try await fixture.sync.checkDrift(now: expires.addingTimeInterval(5)) == nil, "expired twice")

        // The expired job still in git blocks nothing: an unrelated commit deploys.
        let other = "kind: Job\nname: api\nversion: '1'\nimage: busybox\n---\nkind: Deployment\nname: api\njob: api\nhosts: [a]\n"
        let next = try fixture.git.commit(["api.yaml": other])
        let applied = try #require(try await fixture.sync.sync(now: expires.addingTimeInterval(10)))
        #expect(applied.lastAppliedRevision == next, "\(applied)")
        let after = try await fixture.store.readCluster()
        #expect(after.config.deployments.keys.sorted() == ["api"])
        await fixture.close()
    }

    @Test func aHostJoiningASelectorGetsTheDeploymentEvenWithoutSelfHeal() async throws {
        let fixture = try await Fixture()
        let selected = "kind: Deployment\nname: web\njob: web\nhostSelector: [\"zone=edge\"]\n"
        try fixture.git.commit(["helios.yaml": "selfHeal: false\n", "web.yaml": Self.job + "---\n" + selected])
        #expect(try await fixture.sync.sync()?.status == .synced) // no host matches yet: nothing to roll out
        #expect(try await fixture.sync.checkDrift() == nil)

        try await fixture.store.registerHost("edge-1", agentID: "test", info: HostInfo(hostname: "edge-1", agentVersion: "test",
                                                                                    dockerAPIVersion: nil), labels: ["zone": "edge"])
        try await fixture.store.registerHost("core-1", agentID: "test", info: HostInfo(hostname: "core-1", agentVersion: "test",
                                                                                    dockerAPIVersion: nil), labels: ["zone": "core"])
        // What the leader's watch on the hosts does (Master.work): the next look reads the cluster.
        #expect(try await fixture.sync.checkDrift() == nil, "nothing moved that the sync knows of")
        await fixture.sync.hostsChanged()
        let record = try #require(try await fixture.sync.checkDrift())
        #expect(record.reason == .placement)
        #expect(record.summary.contains("hosts joined or left"), "\(record.summary)")
        let snapshot = try await fixture.store.readCluster()
        #expect(snapshot.config.tasks.keys.sorted() == ["edge-1"])
        #expect(snapshot.rollouts["web"]?.batches == [["edge-1"]])
        await fixture.close()
    }

    @Test func theAPIPlansAManifestSetLargerThanARequestUsuallyMayBe() async throws {
        let fixture = try await Fixture()
        let (server, port) = try fixture.serveAPI()
        // 12 files of 700 KB: over 8 MB, four times Hummingbird's default limit, well under the repository's 64 MiB.
        let padding = String(repeating: "# padding to make a large manifest set\n", count: 18_000)
        var files = (0..<12).map { ApplyRequest.File(path: "pad-\($0).yaml", content: padding) }
        files.append(.init(path: "web.yaml", content: Self.job + "---\n" + Self.deployment))
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/plan")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(ApplyRequest(files: files))
        #expect(request.httpBody!.count > 8_000_000)
        #expect(await eventually(timeout: .seconds(20)) {
            (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)) != nil
        })
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: body.prefix(300), as: UTF8.self))")
        let reply = try CanonicalJSON.decode(ApplyReply.self, from: body)
        #expect(reply.plan.summary == PlanSummary(add: 2, change: 0, remove: 0))
        #expect(reply.writes.contains { $0.contains("/config/deployments/web") }, "\(reply.writes)")
        #expect(!reply.applied)
        server.cancel()
        _ = await server.result
        await fixture.close()
    }

    @Test func theAPIServesHealthTheSyncRecordAndTheCluster() async throws {
        let fixture = try await Fixture()
        let (server, port) = try fixture.serveAPI()
        func get(_ path: String) async throws -> (Data, HTTPURLResponse) {
            let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            return (body, response as! HTTPURLResponse)
        }
        #expect(await eventually(timeout: .seconds(20)) { (try? await get("/healthz").1.statusCode) == 200 })
        #expect(try await get("/v1/sync").1.statusCode == 404)

        let head = try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment])
        try await fixture.sync.sync()
        let (body, response) = try await get("/v1/sync")
        #expect(response.statusCode == 200)
        #expect(response.value(forHTTPHeaderField: "Content-Type") == "application/json")
        let record = try CanonicalJSON.decode(SyncRecord.self, from: body)
        #expect(record.lastAppliedRevision == head)
        #expect(record.status == .progressing)

        // The cluster, as ZooKeeper holds it.
        let jobID = try #require(try await fixture.store.readCluster().config.jobs.keys.first)
        let state = try CanonicalJSON.decode(ClusterState.self, from: try await get("/v1/state").0)
        #expect(state.config.deployments["web"]?.jobID == jobID)
        #expect(state.config.tasks["a"]?[jobID]?.goal == .start)
        let jobs = try JSONSerialization.jsonObject(with: try await get("/v1/jobs").0) as? [[String: Any]]
        #expect(jobs?.map { $0["id"] as? String } == [jobID.description])
        let job = try JSONSerialization.jsonObject(with: try await get("/v1/jobs/\(jobID)").0) as? [String: Any]
        #expect((job?["job"] as? [String: Any])?["image"] as? String == "busybox")
        #expect((job?["hosts"] as? [String: Any])?.keys.sorted() == ["a"])
        let deployment = try JSONSerialization.jsonObject(with: try await get("/v1/deployments/web").0) as? [String: Any]
        #expect(deployment?["hosts"] as? [String: String] == ["a": "PENDING"]) // no agent reported yet
        let hosts = try JSONSerialization.jsonObject(with: try await get("/v1/hosts").0) as? [[String: Any]]
        #expect(hosts?.map { $0["name"] as? String } == ["a"])
        #expect(hosts?.first?["up"] as? Bool == true)
        // Unknown names: 404 with a JSON error.
        let (missing, notFound) = try await get("/v1/deployments/nope")
        #expect(notFound.statusCode == 404)
        #expect(try JSONDecoder().decode([String: String].self, from: missing)["error"] == "no deployment nope")
        #expect(try await get("/v1/jobs/web:9:abc").1.statusCode == 404)

        // Prometheus text: the sync and its plan counted, ZooKeeper's latency measured.
        let (metricsBody, metricsResponse) = try await get("/metrics")
        let metrics = String(decoding: metricsBody, as: UTF8.self)
        #expect(metricsResponse.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
        #expect(metrics.contains("helios_syncs_total{status=\"synced\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("helios_plan_changes{kind=\"add\"} 2\n"), "\(metrics)") // the job and the deployment
        #expect(metrics.contains("helios_sync_duration_seconds_count 1\n"))
        #expect(metrics.contains("helios_git_fetch_duration_seconds_count 1\n"))
        #expect(metrics.contains("helios_master_leading 0\n"))
        #expect(metrics.contains("helios_zookeeper_latency_seconds "))
        #expect(metrics.contains("helios_rollouts{state=\"ROLLING_OUT\"} 1\n"), "\(metrics)")

        // Server-sent events: what is current first, then each change. The stream is read as it
        // arrives, not for a fixed time: under a loaded full suite the second sync can take longer
        // than any window chosen here.
        let streamFile = fixture.git.directory.path + "/events"
        let events = try Self.followEvents(port: port, into: streamFile)
        defer { events.terminate() }
        func stream() -> String { (try? String(contentsOfFile: streamFile, encoding: .utf8)) ?? "" }
        #expect(await eventually { stream().contains("\"lastAppliedRevision\":\"\(head)\"") }, "nothing current was streamed: \(stream())")
        #expect(stream().hasPrefix("event: sync\ndata: {"), "\(stream())")
        let next = try fixture.git.commit(["web.yaml": Self.job.replacingOccurrences(of: "'1'", with: "'2'") + "---\n" + Self.deployment])
        try await fixture.sync.sync()
        #expect(await eventually { stream().contains("\"lastAppliedRevision\":\"\(next)\"") }, "the change was not streamed: \(stream())")
        #expect(stream().contains("event: rollout\ndata: {"))

        server.cancel()
        _ = await server.result
        await fixture.close()
    }

    /// A client of `/v1/events` (curl) writing the stream to `file` as it arrives, for up to two
    /// minutes or until terminated.
    static func followEvents(port: Int, into file: String) throws -> Process {
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["curl", "-sN", "--max-time", "120", "-o", file, "http://127.0.0.1:\(port)/v1/events"]
        try client.run()
        return client
    }

    @Test func everyEventSubscriberReadsOneSharedFeedNotZooKeeperItself() async throws {
        let fixture = try await Fixture()
        try fixture.git.commit(["web.yaml": Self.job + "---\n" + Self.deployment])
        try await fixture.sync.sync()
        let (server, port) = try fixture.serveAPI()
        #expect(await eventually(timeout: .seconds(20)) {
            (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)) != nil
        })
        /// `count` streams open: each must get what is current first; then the reads ZooKeeper
        /// serves in two seconds while they stay open.
        func subscribe(_ count: Int) async throws -> Int {
            let files = (0..<count).map { fixture.git.directory.path + "/events-\(count)-\($0)" }
            let clients = try files.map { try Self.followEvents(port: port, into: $0) }
            defer { for client in clients { client.terminate() } }
            let current = await eventually(timeout: .seconds(60)) {
                files.allSatisfy { file in
                    let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                    return text.hasPrefix("event: sync\ndata: {") && text.contains("event: rollout\ndata: {")
                }
            }
            #expect(current, "each of \(count) subscribers gets what is current first")
            let before = fixture.store.zooKeeperRequests.reads
            try await Task.sleep(for: .seconds(2))
            return fixture.store.zooKeeperRequests.reads - before
        }
        let one = try await subscribe(1)
        let twenty = try await subscribe(20)
        // One reader (two reads a look) whatever the number of subscribers; before, each read on its own.
        #expect(one > 0)
        #expect(twenty <= 2 * one + 10, "1 subscriber: \(one) reads; 20: \(twenty)")
        server.cancel()
        _ = await server.result
        await fixture.close()
    }
}
