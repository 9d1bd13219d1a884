import Foundation
import HeliosTestSupport
import Testing

/// A canary secret under names that do not say "PASSWORD": in no plan format, API reply or
/// CLI view, nor in the master's log.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct SecretMaskingTests {
    @Test func aCanarySecretAppearsInNoPlanAPIReplyOrLog() async throws {
        let canary = "canary-\(UUID().uuidString.prefix(12))"
        let directory = try TemporaryDirectory("canary")
        defer { directory.remove() }
        try directory.write("""
            kind: Job
            name: web
            version: "1"
            image: busybox
            env:
              DB_PASS: \(canary)-1
              DATABASE_URL: "postgres://app:\(canary)-2@db.internal/app"
              GITHUB_PAT: \(canary)-3
              UPSTREAM: \(canary)-4
              LOG_LEVEL: info
            sensitive: [UPSTREAM]
            ---
            kind: Deployment
            name: web
            job: web
            hosts: [agent-1]
            """, to: "manifests/web.yaml")
        func helios(_ arguments: [String]) throws -> CommandResult {
            try execute([heliosExecutable.path] + arguments, in: directory.path,
                        environment: ["NO_COLOR": "1", "HELIOS_MASTER": "", "HELIOS_TOKEN": ""])
        }
        var outputs: [String: String] = [:]
        try Data(contentsOf: GoldenExampleTests.examples.appendingPathComponent("basic/state.json"))
            .write(to: directory.url.appendingPathComponent("empty.json"))
        for format in ["text", "json", "markdown"] {
            let plan = try helios(["plan", "manifests", "--state", "empty.json", "--format", format])
            #expect(plan.status == 0, "\(plan.errors)")
            outputs["plan \(format)"] = plan.output + plan.errors
        }

        let port = try freeLoopbackPort()
        let master = try Daemon(name: "master", executable: heliosExecutable, arguments: [
            "master", "--zk", try TestServices.requireZooKeeper(), "--chroot", TestServices.uniqueChroot("canary"),
            "--state-dir", directory.path + "/state", "--http", "127.0.0.1:\(port)",
        ], directory: directory)
        defer { Task { await master.stop() } }
        let base = "127.0.0.1:\(port)"
        try #require(await eventually(timeout: .seconds(30)) { (try? APISecurityTests.call("GET", "http://\(base)/healthz"))?.status == 200 })
        let apply = try helios(["apply", "manifests", "--master", base, "--detach"])
        #expect(apply.status == 0, "\(apply.errors)")
        outputs["apply"] = apply.output + apply.errors
        for view in [["state", "pull"], ["jobs"], ["jobs", "--json"], ["deployments", "--json"]] {
            outputs[view.joined(separator: " ")] = try helios(view + ["--master", base]).output
        }
        let jobs = try APISecurityTests.call("GET", "http://\(base)/v1/jobs").body
        outputs["GET /v1/jobs"] = jobs
        let id = try #require((try JSONSerialization.jsonObject(with: Data(jobs.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        outputs["GET /v1/jobs/ID"] = try APISecurityTests.call("GET", "http://\(base)/v1/jobs/\(id)").body
        outputs["GET /v1/state"] = try APISecurityTests.call("GET", "http://\(base)/v1/state").body
        outputs["master log"] = master.log

        #expect(outputs["GET /v1/state"]?.contains("LOG_LEVEL") == true, "the state is there, its secrets masked")
        #expect(outputs["GET /v1/state"]?.contains("(sensitive)") == true)
        for (name, output) in outputs.sorted(by: { $0.key < $1.key }) {
            #expect(!output.contains(canary), "the canary leaked into \(name): \(output.prefix(400))")
        }
    }
}
