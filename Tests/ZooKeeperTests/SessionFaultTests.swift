import Foundation
import HeliosTestSupport
import Testing
import ZooKeeper

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct SessionFaultTests {
    /// A partition longer than the session timeout: the server really expires the session.
    @Test func anExpiredSessionIsRenewedWithItsEphemeralNodesAndWatches() async throws {
        let servers = try TestServices.requireZooKeeper()
        let port = try #require(Int(servers.split(separator: ":").last ?? ""))
        let chroot = TestServices.uniqueChroot("expiry")
        let proxy = try TCPProxy(to: port)
        defer { proxy.stop() }
        let observer = try await ZooKeeperSession.connect(servers: servers, chroot: chroot)
        try await observer.create("/watched", data: Data("before".utf8))
        try await observer.create("/parent")

        let session = try await ZooKeeperSession.connect(servers: "127.0.0.1:\(proxy.port)", chroot: chroot,
                                                         sessionTimeout: .seconds(4))
        let states = Recorder(session.stateChanges())
        let events = Recorder(session.watchEvents())
        try await session.createEphemeral("/owned", data: Data("me".utf8))
        _ = try await session.get("/watched", watch: true)
        _ = try await session.children("/parent", watch: true)
        let firstID = session.sessionID

        proxy.pause()
        // The server expires the session: its ephemeral node goes.
        let expired = await eventually(timeout: .seconds(60)) { (try? await observer.exists("/owned")) == nil }
        #expect(expired)
        try await observer.set("/watched", data: Data("while away".utf8)) // a change the session cannot see
        proxy.resume()

        let renewed = await eventually(timeout: .seconds(60)) { states.all.contains(.renewed) }
        try #require(renewed, "states: \(states.all)")
        #expect(states.all.firstIndex(of: .expired)! < states.all.firstIndex(of: .renewed)!)
        #expect(session.sessionID != firstID)
        #expect(session.state == .connected)
        // The ephemeral node is back, owned by the new session.
        let owner = try await observer.exists("/owned")?.ephemeralOwner
        #expect(owner == session.sessionID)
        #expect(try await observer.get("/owned").data == Data("me".utf8))
        // Watches fired once, so the change made while away is re-read…
        #expect(events.all.contains(WatchEvent(kind: .dataChanged, path: "/watched")))
        #expect(events.all.contains(WatchEvent(kind: .childrenChanged, path: "/parent")))
        // …and are armed again in the new session.
        let before = events.all.count
        try await observer.create("/parent/child")
        let rearmed = await eventually { events.all.dropFirst(before).contains(WatchEvent(kind: .childrenChanged, path: "/parent")) }
        #expect(rearmed)
        // Deleting an owned node through the session stops keeping it.
        try await session.delete("/owned")
        #expect(try await observer.exists("/owned") == nil)
        await session.close()
        await observer.close()
    }

    /// A server crash and restart within the session timeout: same session, nothing lost,
    /// and calls made while it was down fail with a connection error instead of hanging.
    @Test func aServerKilledAndRestartedKeepsTheSession() async throws {
        _ = try TestServices.requireZooKeeper() // the same Java and ZooKeeper install
        let server = try PrivateZooKeeperServer()
        defer { server.remove() }
        try await server.start()
        let session = try await ZooKeeperSession.connect(servers: server.address, sessionTimeout: .seconds(20))
        let states = Recorder(session.stateChanges())
        let events = Recorder(session.watchEvents())
        try await session.createEphemeral("/alive")
        try await session.create("/data", data: Data("one".utf8))
        _ = try await session.get("/data", watch: true)
        let id = session.sessionID

        server.kill()
        let lost = await eventually { states.all.contains(.connecting) }
        #expect(lost)
        let error = await #expect(throws: ZooKeeperError.self) { try await session.get("/data") }
        #expect([.connectionLoss, .operationTimeout, .invalidState].contains(error?.code), "\(String(describing: error))")

        try await server.start()
        let back = await eventually { session.state == .connected }
        try #require(back, "states: \(states.all)")
        #expect(session.sessionID == id)
        #expect(!states.all.contains(.expired))
        #expect(try await session.exists("/alive")?.ephemeralOwner == id)
        // The watch armed before the crash still fires: the C client re-registers it.
        let other = try await ZooKeeperSession.connect(servers: server.address)
        try await other.set("/data", data: Data("two".utf8))
        let fired = await eventually { events.all.contains(WatchEvent(kind: .dataChanged, path: "/data")) }
        #expect(fired)
        await other.close()
        await session.close()
    }
}
