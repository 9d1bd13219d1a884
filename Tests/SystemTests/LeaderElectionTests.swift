import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeliosTestSupport
import Testing

/// Two real masters on one cluster: one leads and syncs, the other serves the API and passes
/// webhooks on; killing the leader hands the lead over once ZooKeeper expires its session.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct LeaderElectionTests {
    struct Masters: Decodable {
        struct Master: Decodable { let id: String; let leader: Bool }
        let leading: Bool
        let masters: [Master]
    }

    static func get<T: Decodable>(_ type: T.Type, _ url: String) async throws -> T {
        let (body, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return try JSONDecoder().decode(type, from: body)
    }

    static func post(_ url: String) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func syncedRevision(_ base: String) async -> String? {
        guard let record = try? await get([String: AnyDecodable].self, base + "/v1/sync") else { return nil }
        return record["status"]?.string == "SYNCED" ? record["lastAppliedRevision"]?.string : nil
    }

    @Test func oneMasterLeadsAndTheOtherTakesOverWhenItDies() async throws {
        let zooKeeper = try TestServices.requireZooKeeper()
        let git = try GitFixture()
        let directory = try TemporaryDirectory("election")
        let chroot = TestServices.uniqueChroot("election")
        defer { git.remove(); directory.remove() }
        try git.commit(["jobs/web.yaml": "kind: Job\nname: web\nversion: \"1\"\nimage: \(TestServices.image)\n"],
                       message: "web 1")

        func startMaster(_ name: String, port: Int) throws -> Daemon {
            // A long poll: only the webhook makes these masters sync within the test.
            try Daemon(name: name, executable: heliosExecutable, arguments: [
                "master", "--zk", zooKeeper, "--chroot", chroot, "--repo", git.remote, "--poll", "10m",
                "--state-dir", directory.path + "/" + name, "--http", "127.0.0.1:\(port)", "--session-timeout", "4s",
            ], directory: directory)
        }
        let (firstPort, secondPort) = (try freeLoopbackPort(), try freeLoopbackPort())
        let first = try startMaster("first", port: firstPort)
        let firstURL = "http://127.0.0.1:\(firstPort)"
        let secondURL = "http://127.0.0.1:\(secondPort)"
        #expect(await eventually { (try? await Self.get(Masters.self, firstURL + "/v1/masters"))?.leading == true })
        let second = try startMaster("second", port: secondPort)
        #expect(await eventually { (try? await Self.get(Masters.self, secondURL + "/v1/masters"))?.masters.count == 2 })
        let view = try await Self.get(Masters.self, secondURL + "/v1/masters")
        #expect(!view.leading)
        #expect(view.masters.map(\.id) == [firstURL, secondURL])
        #expect(view.masters.map(\.leader) == [true, false])

        // A webhook to the follower: the leader syncs at once (its poll is ten minutes).
        let head = try git.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.post(secondURL + "/v1/sync") == 202)
        #expect(await eventually { await Self.syncedRevision(secondURL) == head }, "\(first.log)")
        #expect(await eventually { first.log.contains("revision applied") })
        #expect(!second.log.contains("revision applied"))

        // The leader dies without a word: its session ends by expiry, and the other leads.
        first.kill()
        let killed = ContinuousClock.now
        let tookOver = await eventually(timeout: .seconds(30)) {
            (try? await Self.get(Masters.self, secondURL + "/v1/masters"))?.leading == true
        }
        #expect(tookOver, "\(second.log)")
        print("the second master led \(ContinuousClock.now - killed) after the first was killed (session timeout 4 s)")

        try git.commit(["jobs/web.yaml": "kind: Job\nname: web\nversion: \"2\"\nimage: \(TestServices.image)\n"],
                       message: "web 2")
        let bumped = try git.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.post(secondURL + "/v1/sync") == 202)
        #expect(await eventually { await Self.syncedRevision(secondURL) == bumped }, "\(second.log)")
        // The record is in ZooKeeper a moment before the log line (a removed job's history is pruned first).
        #expect(await eventually { second.log.contains("revision applied") }, "\(second.log)")
        await second.stop()
        #expect(second.exitStatus == 0, "\(second.log)")
    }
}

/// A JSON value of which tests read strings.
struct AnyDecodable: Decodable {
    let string: String?
    init(from decoder: any Decoder) throws {
        string = try? decoder.singleValueContainer().decode(String.self)
    }
}
