import Foundation
import HeliosTestSupport
import Testing

/// What the daemons print is theirs: the ZooKeeper C client's own lines go through swift-log
/// (at debug level), not straight to the terminal.
@Suite(.enabled(if: TestServices.dockerEnabled, "needs Docker: run `make test`"))
struct LoggingTests {
    @Test func anAgentWhoseZooKeeperIsAwayPrintsNoRawClientLines() async throws {
        let directory = try TemporaryDirectory("logging")
        defer { directory.remove() }
        // Held for the whole test: a port merely free when chosen was once taken by another
        // test's ZooKeeper, and the agent registered there instead of meeting an outage.
        let unreachable = try RefusingLoopbackPort()
        let agent = try Daemon(name: "agent", executable: heliosExecutable, arguments: [
            "agent", "--zk", "127.0.0.1:\(unreachable.port)", "--name", "quiet-\(UUID().uuidString.prefix(6).lowercased())",
            "--docker-socket", try TestServices.requireDocker(), "--state-dir", directory.path + "/agent",
        ], directory: directory)
        // It says so itself, once its connection attempt gives up; meanwhile the C client retried many times.
        let said = await eventually(timeout: .seconds(90)) { agent.log.contains("warning") }
        await agent.stop()
        withExtendedLifetime(unreachable) {}
        let log = agent.log
        #expect(!log.contains("agent registered"), "the agent found a ZooKeeper where none should be: \(log.prefix(2000))")
        #expect(said, "the agent said nothing of the outage: \(log.prefix(2000))")
        #expect(!log.contains("ZOO_ERROR") && !log.contains("ZOO_WARN") && !log.contains("ZOO_INFO"), "\(log.prefix(2000))")
    }
}
