import Foundation
import HeliosTestSupport
import Testing
import ZooKeeper

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct ZooKeeperSessionTests {
    func connect(_ chroot: String = TestServices.uniqueChroot("zk")) async throws -> ZooKeeperSession {
        try await ZooKeeperSession.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
    }

    @Test func createGetSetDeleteRoundTrip() async throws {
        let session = try await connect()
        try await session.create("/node", data: Data("one".utf8))
        let (data, stat) = try await session.get("/node")
        #expect(String(decoding: data, as: UTF8.self) == "one")
        #expect(stat.version == 0)

        let newStat = try await session.set("/node", data: Data("two".utf8), version: 0)
        #expect(newStat.version == 1)
        #expect(try await session.get("/node").data == Data("two".utf8))

        try await session.delete("/node", version: 1)
        #expect(try await session.exists("/node") == nil)
        await session.close()
    }

    @Test func staleVersionIsRefusedWithBadVersion() async throws {
        let session = try await connect()
        try await session.create("/versioned", data: Data("a".utf8))
        try await session.set("/versioned", data: Data("b".utf8))
        let error = await #expect(throws: ZooKeeperError.self) {
            try await session.set("/versioned", data: Data("c".utf8), version: 0)
        }
        #expect(error?.code == .badVersion)
        #expect(try await session.get("/versioned").data == Data("b".utf8))
        await session.close()
    }

    @Test func missingNodeIsNoNodeAndExistingIsNodeExists() async throws {
        let session = try await connect()
        let missing = await #expect(throws: ZooKeeperError.self) { try await session.get("/absent") }
        #expect(missing?.code == .noNode)
        #expect(missing?.path == "/absent")
        try await session.create("/present")
        let duplicate = await #expect(throws: ZooKeeperError.self) { try await session.create("/present") }
        #expect(duplicate?.code == .nodeExists)
        await session.close()
    }

    @Test func childrenAreListedSortedAndSequentialNodesNumbered() async throws {
        let session = try await connect()
        try await session.createPath("/parent")
        for name in ["b", "a", "c"] { try await session.create("/parent/\(name)") }
        #expect(try await session.children("/parent") == ["a", "b", "c"])

        let first = try await session.create("/parent/seq-", mode: .persistentSequential)
        let second = try await session.create("/parent/seq-", mode: .persistentSequential)
        #expect(first.hasPrefix("/parent/seq-"))
        #expect(first < second)
        await session.close()
    }

    @Test func transactionCommitsEverythingOrNothing() async throws {
        let session = try await connect()
        try await session.create("/counter", data: Data("0".utf8))
        let results = try await session.transaction([
            .check(path: "/counter", version: 0),
            .create(path: "/a", data: Data("A".utf8), mode: .persistent),
            .create(path: "/a/b", data: Data(), mode: .persistent),
            .set(path: "/counter", data: Data("1".utf8), version: 0),
        ])
        #expect(results.count == 4)
        #expect(results[1] == .created(path: "/a"))
        #expect(try await session.get("/a/b").stat.version == 0)

        // The check now fails: nothing of the second transaction may be applied.
        let failure = await #expect(throws: TransactionError.self) {
            try await session.transaction([
                .create(path: "/c", data: Data(), mode: .persistent),
                .delete(path: "/a/b", version: nil),
                .check(path: "/counter", version: 0),
            ])
        }
        #expect(failure?.index == 2)
        #expect(failure?.underlying.code == .badVersion)
        #expect(try await session.exists("/c") == nil)
        #expect(try await session.exists("/a/b") != nil)
        await session.close()
    }

    @Test func ephemeralNodeGoesWithItsSession() async throws {
        let chroot = TestServices.uniqueChroot("zk")
        let owner = try await connect(chroot)
        let observer = try await connect(chroot)
        try await owner.create("/up", mode: .ephemeral)
        #expect(try await observer.exists("/up")?.ephemeralOwner == owner.sessionID)
        await owner.close()
        #expect(try await observer.exists("/up") == nil)
        await observer.close()
    }

    @Test func watchesAreDeliveredAsEvents() async throws {
        let chroot = TestServices.uniqueChroot("zk")
        let watcher = try await connect(chroot)
        let writer = try await connect(chroot)
        try await watcher.createPath("/watched")
        let events = watcher.watchEvents()
        _ = try await watcher.children("/watched", watch: true)
        try await writer.create("/watched/child")

        var iterator = events.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event == WatchEvent(kind: .childrenChanged, path: "/watched"))

        _ = try await watcher.get("/watched/child", watch: true)
        try await writer.set("/watched/child", data: Data("x".utf8))
        #expect(await iterator.next() == WatchEvent(kind: .dataChanged, path: "/watched/child"))
        await watcher.close()
        await writer.close()
    }

    @Test func connectingToNothingTimesOutWithAClearError() async throws {
        let error = await #expect(throws: ZooKeeperError.self) {
            try await ZooKeeperSession.connect(servers: "127.0.0.1:1", connectTimeout: .milliseconds(500))
        }
        #expect(error?.code == .operationTimeout)
    }
}
