import Foundation
import HeliosTestSupport
import Testing

/// Hostile requests to a real master: each refused cleanly while it keeps serving others.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct APIHardeningTests {
    @Test func hostileRequestsAreRefusedAndTheMasterKeepsServing() async throws {
        let directory = try TemporaryDirectory("hardening")
        defer { directory.remove() }
        let port = try freeLoopbackPort()
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", try TestServices.requireZooKeeper(), "--chroot", TestServices.uniqueChroot("hardening"),
            "--state-dir", directory.path + "/state", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        defer { Task { await master.stop() } }
        let base = "http://127.0.0.1:\(port)"
        try #require(await eventually(timeout: .seconds(30)) { (try? APISecurityTests.call("GET", base + "/healthz"))?.status == 200 })
        let json = "Content-Type: application/json"

        #expect(try APISecurityTests.call("POST", base + "/v1/plan", headers: [json], body: #"{"files": ["#).status == 400)
        try (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).write(
            toFile: directory.path + "/deep.json", atomically: true, encoding: .utf8)
        #expect(try APISecurityTests.call("POST", base + "/v1/plan", headers: [json], body: "@" + directory.path + "/deep.json").status == 400)
        // Over the 128 MiB upload limit: 413, and the master does not hold it all.
        let big = directory.path + "/big.json"
        FileManager.default.createFile(atPath: big, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        let chunk = Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<140 { handle.write(chunk) }
        try handle.close()
        let oversized = try APISecurityTests.call("POST", base + "/v1/plan", headers: [json], body: "@" + big)
        #expect(oversized.status == 413, "\(oversized.body.prefix(200))")
        for path in ["/v1/jobs/..%2F..%2Fconfig", "/v1/hosts/..%2F..%2F", "/v1/deployments/%2e%2e", "/v1/jobs/a:b:c/history",
                     "/v1/hosts/" + String(repeating: "x", count: 5000)] {
            let reply = try APISecurityTests.call("GET", base + path)
            #expect([400, 404].contains(reply.status), "\(path): \(reply.status)")
            #expect(reply.body.contains("\"error\""), "\(path)")
        }

        // 1,000 idle connections and 50 slow-loris ones (headers never finished): others are still served.
        let script = """
            import socket, sys, time, urllib.request
            port = int(sys.argv[1])
            idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
            loris = []
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", port)); s.send(b"GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n"); loris.append(s)
            print(urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=20).status)
            """
        let crowd = try execute(["python3", "-c", script, "\(port)"])
        #expect(crowd.output.trimmingCharacters(in: .whitespacesAndNewlines) == "200", "\(crowd.errors)")
        #expect(try APISecurityTests.call("GET", base + "/healthz").status == 200)
        #expect(master.isRunning, "\(master.log)")
    }
}
