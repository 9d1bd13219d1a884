import Foundation
import HeliosTestSupport
import Testing

/// Who may call a real master: tokens and scopes, and no cross-site or rebinding way in.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct APISecurityTests {
    /// `curl` for full control of the headers; returns the status and the body.
    static func call(_ method: String, _ url: String, headers: [String] = [], body: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        let output = try run(arguments)
        let status = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (status, String(output.dropLast(String(status).count + 1)))
    }

    func helios(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try execute([heliosExecutable.path] + arguments, environment: ["NO_COLOR": "1", "HELIOS_MASTER": "", "HELIOS_TOKEN": ""]
            .merging(environment) { $1 })
    }

    func startMaster(_ directory: TemporaryDirectory, extra: [String]) async throws -> (Daemon, String) {
        let port = try freeLoopbackPort()
        let master = try Daemon(name: "master-\(port)", executable: heliosExecutable, arguments: [
            "master", "--zk", try TestServices.requireZooKeeper(), "--chroot", TestServices.uniqueChroot("security"),
            "--state-dir", directory.path + "/state-\(port)", "--http", "127.0.0.1:\(port)",
        ] + extra, directory: directory)
        let base = "http://127.0.0.1:\(port)"
        let up = await eventually(timeout: .seconds(30)) { (try? Self.call("GET", base + "/healthz"))?.status == 200 }
        try #require(up, "\(master.log)")
        return (master, base)
    }

    @Test func everyCallNeedsATokenWithItsScopeAndNoOtherSiteGetsIn() async throws {
        let directory = try TemporaryDirectory("security")
        defer { directory.remove() }
        let tokens = directory.path + "/tokens"
        let reader = try helios(["token", "create", "dashboard", "--scopes", "read", "--file", tokens])
        let deployer = try helios(["token", "create", "ci", "--scopes", "deploy", "--file", tokens])
        try #require(reader.status == 0 && deployer.status == 0, "\(reader.errors)\(deployer.errors)")
        let readToken = reader.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let deployToken = deployer.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = try String(contentsOfFile: tokens, encoding: .utf8)
        #expect(!file.contains(readToken) && !file.contains(deployToken), "the file holds hashes, never tokens")
        #expect(try FileManager.default.attributesOfItem(atPath: tokens)[.posixPermissions] as? Int == 0o600)

        let (master, base) = try await startMaster(directory, extra: ["--api-tokens", tokens])
        defer { Task { await master.stop() } }
        let read = "Authorization: Bearer \(readToken)", deploy = "Authorization: Bearer \(deployToken)"

        #expect(try Self.call("GET", base + "/healthz").status == 200)
        let anonymous = try Self.call("GET", base + "/v1/hosts")
        #expect(anonymous.status == 401)
        #expect(anonymous.body.contains("\"error\""), "\(anonymous.body)")
        #expect(try Self.call("GET", base + "/v1/hosts", headers: ["Authorization: Bearer helios_wrong"]).status == 401)
        #expect(try Self.call("GET", base + "/metrics").status == 401)
        #expect(try Self.call("GET", base + "/v1/hosts", headers: [read]).status == 200)
        #expect(try Self.call("GET", base + "/v1/hosts", headers: [deploy]).status == 200, "deploy reads too")
        let forbidden = try Self.call("POST", base + "/v1/sync", headers: [read])
        #expect(forbidden.status == 403)
        #expect(forbidden.body.contains("lacks the deploy scope"), "\(forbidden.body)")
        #expect(try Self.call("POST", base + "/v1/sync", headers: [deploy]).status == 202)

        // A browser's "simple" request, another site's page, a rebinding DNS name: refused.
        #expect(try Self.call("POST", base + "/v1/plan", headers: [deploy, "Content-Type: text/plain"], body: "{}").status == 415)
        #expect(try Self.call("POST", base + "/v1/sync", headers: [deploy, "Origin: http://evil.example"]).status == 403)
        #expect(try Self.call("GET", base + "/v1/hosts", headers: [read, "Host: evil.example:80"]).status == 403)
        #expect(try Self.call("GET", base + "/v1/hosts", headers: [read, "Origin: \(base)"]).status == 200, "same origin")

        // The CLI sends HELIOS_TOKEN; without it, it says what is missing.
        let hosts = try helios(["hosts", "--master", base], environment: ["HELIOS_TOKEN": readToken])
        #expect(hosts.status == 0, "\(hosts.errors)")
        let refused = try helios(["hosts", "--master", base])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("needs a token"), "\(refused.errors)")

        #expect(!master.log.contains(readToken) && !master.log.contains(deployToken), "a token reached the log")
    }

    @Test func withoutTokensTheMasterServesLoopbackOnlyAndAnonymousReadsAreOptIn() async throws {
        let directory = try TemporaryDirectory("security-open")
        defer { directory.remove() }
        let open = try helios(["master", "--zk", try TestServices.requireZooKeeper(), "--chroot", TestServices.uniqueChroot("security"),
                               "--state-dir", directory.path + "/state", "--http", "0.0.0.0:\(try freeLoopbackPort())"])
        #expect(open.status == 1)
        #expect(open.errors.contains("without --api-tokens the API serves loopback only"), "\(open.errors)")

        let tokens = directory.path + "/tokens"
        let deployer = try helios(["token", "create", "ci", "--scopes", "deploy", "--file", tokens])
        let (master, base) = try await startMaster(directory, extra: ["--api-tokens", tokens, "--anonymous-read", "--open-metrics"])
        defer { Task { await master.stop() } }
        #expect(try Self.call("GET", base + "/v1/hosts").status == 200)
        #expect(try Self.call("GET", base + "/metrics").status == 200)
        #expect(try Self.call("POST", base + "/v1/sync").status == 401, "reads are open, writes are not")
        let token = deployer.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Self.call("POST", base + "/v1/sync", headers: ["Authorization: Bearer \(token)"]).status == 202)
    }

    /// GitHub's `sha256=` HMAC of `body` with `secret`, computed by Python's hmac module.
    static func githubSignature(_ body: String, secret: String) throws -> String {
        let script = "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())"
        return "sha256=" + (try run(["python3", "-c", script, secret, body])).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func webhooksAreTakenSignedOnly() async throws {
        let directory = try TemporaryDirectory("security-webhook")
        defer { directory.remove() }
        let secret = "webhook-\(UUID().uuidString.prefix(8))"
        try directory.write(secret + "\n", to: "webhook-secret")
        let tokens = directory.path + "/tokens"
        _ = try helios(["token", "create", "dashboard", "--scopes", "read", "--file", tokens])
        let (master, base) = try await startMaster(directory, extra: ["--api-tokens", tokens,
                                                                      "--webhook-secret-file", directory.path + "/webhook-secret"])
        defer { Task { await master.stop() } }
        let body = #"{"ref":"refs/heads/main","after":"0123456789abcdef"}"#
        let signed = try Self.githubSignature(body, secret: secret)
        let json = "Content-Type: application/json"
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json, "X-Hub-Signature-256: \(signed)"], body: body).status == 202)
        // GitHub may send the payload as a form: signed, it is taken too.
        let form = "payload=%7B%7D"
        #expect(try Self.call("POST", base + "/v1/sync", headers: ["Content-Type: application/x-www-form-urlencoded",
                                                                    "X-Hub-Signature-256: \(try Self.githubSignature(form, secret: secret))"],
                              body: form).status == 202)
        let wrong = try Self.githubSignature(body, secret: "not-the-secret")
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json, "X-Hub-Signature-256: \(wrong)"], body: body).status == 401)
        // A signature seen on one body does not carry another.
        let replayed = body.replacingOccurrences(of: "main", with: "evil")
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json, "X-Hub-Signature-256: \(signed)"], body: replayed).status == 401)
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json, "X-Gitlab-Token: \(secret)"], body: body).status == 202)
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json, "X-Gitlab-Token: guess"], body: body).status == 401)
        #expect(try Self.call("POST", base + "/v1/sync", headers: [json], body: body).status == 401, "unsigned, no token")
        #expect(!master.log.contains(secret))
    }

    /// Every change is in the audit log with who made it: a commit's author, a token's name.
    @Test func theAuditLogSaysWhoChangedWhat() async throws {
        let directory = try TemporaryDirectory("security-audit")
        let git = try GitFixture()
        defer { directory.remove(); git.remove() }
        let head = try git.commit(["web.yaml": PlanInCITests.job + "\n---\n" + PlanInCITests.deployment], message: "web 1")
        let tokens = directory.path + "/tokens"
        let token = try helios(["token", "create", "ci", "--scopes", "deploy", "--file", tokens]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (master, base) = try await startMaster(directory, extra: ["--api-tokens", tokens, "--repo", git.remote, "--poll", "1s"])
        defer { Task { await master.stop() } }
        let auth = "Authorization: Bearer \(token)"
        #expect(try Self.call("POST", base + "/v1/sync", headers: [auth]).status == 202)
        let logged = await eventually(timeout: .seconds(30)) {
            let body = (try? Self.call("GET", base + "/v1/audit", headers: [auth]))?.body ?? ""
            return body.contains("applied revision") && body.contains("sync requested")
        }
        let audit = try Self.call("GET", base + "/v1/audit", headers: [auth]).body
        #expect(logged, "\(audit)")
        #expect(audit.contains("commit \(head.prefix(7)) by Helios Test <test@helios.invalid>"), "\(audit)")
        #expect(audit.contains("web 1: applied"), "\(audit)")
        #expect(audit.contains("token ci"), "\(audit)")
        let view = try helios(["audit", "--master", base], environment: ["HELIOS_TOKEN": token])
        #expect(view.status == 0 && view.output.contains("applied revision") && view.output.contains("token ci"), "\(view.output)\(view.errors)")
        #expect(try Self.call("GET", base + "/v1/audit").status == 401)
    }
}
