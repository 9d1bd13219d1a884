import Foundation
import HeliosTestSupport
import Testing
import ZooKeeper

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct ZooKeeperACLTests {
    func connect(_ chroot: String) async throws -> ZooKeeperSession {
        try await ZooKeeperSession.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
    }

    @Test func aCreatorOnlyNodeAnswersOnlyToItsCredentials() async throws {
        let chroot = TestServices.uniqueChroot("acl")
        let owner = try await connect(chroot)
        try await owner.addAuth(scheme: "digest", credentials: "alice:secret")
        try await owner.create("/secret", data: Data("s3cr3t".utf8), acl: [.creator()])
        #expect(try await owner.get("/secret").data == Data("s3cr3t".utf8))

        let stranger = try await connect(chroot)
        let refused = await #expect(throws: ZooKeeperError.self) { try await stranger.get("/secret") }
        #expect(refused?.code == .noAuth)
        try await stranger.addAuth(scheme: "digest", credentials: "alice:wrong")
        #expect(await (try? stranger.get("/secret")) == nil, "a wrong password read the node")

        let alice = try await connect(chroot)
        try await alice.addAuth(scheme: "digest", credentials: "alice:secret")
        #expect(try await alice.get("/secret").data == Data("s3cr3t".utf8))
        for session in [owner, stranger, alice] { await session.close() }
    }
}
