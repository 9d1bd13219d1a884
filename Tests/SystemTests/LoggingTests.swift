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
        let unreachable = try freeLoopbackPort() // nothing listens here
        let agent = try Daemon(name: "agent", executable: heliosExecutable, arguments: [
            "agent", "--zk", "127.0.0.1:\(unreachable)", "--name", "quiet-\(UUID().uuidString.prefix(6).lowercased())",
            "--docker-socket", try TestServices.requireDocker(), "--state-dir", directory.path + "/agent",
        ], directory: directory)
        // It says so itself, once its connection attempt gives up; meanwhile the C client retried many times.
        let said = await eventually(timeout: .seconds(90)) { agent.log.contains("warning") }
        await agent.stop()
        let log = agent.log
        #expect(said, "the agent said nothing of the outage: \(log.prefix(2000))")
        #expect(!log.contains("ZOO_ERROR") && !log.contains("ZOO_WARN") && !log.contains("ZOO_INFO"), "\(log.prefix(2000))")
    }
}
