import Foundation
import HeliosTestSupport
import Testing

/// The API over real TLS on loopback, with a CA and certificates made here: the CLI verifies the
/// master's certificate against `--ca-file` and refuses one it cannot verify.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct APITLSTests {
    /// A CA in `directory/name-ca.pem` and, signed by it, a certificate for 127.0.0.1 and localhost.
    func certificates(_ directory: TemporaryDirectory, _ name: String) throws {
        let path = directory.path + "/" + name
        try run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                 "-subj", "/CN=\(name) test CA", "-keyout", path + "-ca.key", "-out", path + "-ca.pem"])
        try run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                 "-keyout", path + ".key", "-out", path + ".csr"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: path + ".ext", atomically: true, encoding: .utf8)
        try run(["openssl", "x509", "-req", "-in", path + ".csr", "-CA", path + "-ca.pem", "-CAkey", path + "-ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", path + ".ext", "-out", path + ".pem"])
    }

    @Test func theCLIReachesATLSMasterOnlyThroughItsCA() async throws {
        let directory = try TemporaryDirectory("tls")
        defer { directory.remove() }
        try certificates(directory, "master")
        try certificates(directory, "other")
        let port = try freeLoopbackPort()
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", try TestServices.requireZooKeeper(), "--chroot", TestServices.uniqueChroot("tls"),
            "--state-dir", directory.path + "/state", "--http", "127.0.0.1:\(port)",
            "--tls-cert", directory.path + "/master.pem", "--tls-key", directory.path + "/master.key",
        ], directory: directory)
        defer { Task { await master.stop() } }
        let base = "https://127.0.0.1:\(port)"
        func helios(_ arguments: [String]) throws -> CommandResult {
            try execute([heliosExecutable.path] + arguments + ["--master", base],
                        environment: ["NO_COLOR": "1", "HELIOS_TOKEN": "", "HELIOS_CA_FILE": ""])
        }
        let up = await eventually(timeout: .seconds(30)) { (try? helios(["hosts", "--ca-file", directory.path + "/master-ca.pem"]))?.status == 0 }
        #expect(up, "\(master.log)")

        let verified = try helios(["status", "--ca-file", directory.path + "/master-ca.pem"])
        #expect(verified.status == 0, "\(verified.errors)")
        // The system's CAs do not know this one, nor does another CA.
        let unknown = try helios(["status"])
        #expect(unknown.status == 1 && unknown.errors.contains("cannot reach the master"), "\(unknown.errors)")
        let other = try helios(["status", "--ca-file", directory.path + "/other-ca.pem"])
        #expect(other.status == 1 && other.errors.contains("certificate"), "\(other.errors)")
        // Plain HTTP gets no API.
        let plain = try execute(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"])
        #expect(plain.output != "200")
        let healthz = try execute(["curl", "-s", "--cacert", directory.path + "/master-ca.pem", base + "/healthz"])
        #expect(healthz.output == "ok\n")
    }
}
