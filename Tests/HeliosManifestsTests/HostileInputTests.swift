import Foundation
import HeliosManifests
import Testing

/// The corpus of hostile and broken input: each case is a set of files and the diagnostics
/// it must produce — a clean error, never a crash or a hang.
struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let files: [String: Data]
        let expected: [String]
        var testDescription: String { name }

        init(_ name: String, _ files: [String: String], _ expected: [String]) {
            self.init(name, files.mapValues { Data($0.utf8) }, expected)
        }

        init(_ name: String, _ files: [String: Data], _ expected: [String]) {
            self.name = name
            self.files = files
            self.expected = expected
        }
    }

    static let job = "kind: Job\nname: web\nversion: '1'\nimage: busybox\n"

    static var billionLaughs: String {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            previous = name
        }
        return text
    }

    static let cases: [Case] = [
        Case("syntax error", ["a.yaml": "kind: Job\nname: [web\n"],
             ["a.yaml:3:1: error: invalid YAML: did not find expected ',' or ']'"]),
        Case("duplicate keys", ["a.yaml": "kind: Job\nname: web\nname: web2\nversion: '1'\nimage: x\n"],
             ["a.yaml:3:1: error: duplicate key 'name' (first on line 2)"]),
        Case("wrong types", ["a.yaml": "kind: Job\nname: web\nversion: '1'\nimage: busybox\nenv: [A=1]\nstopTimeout: 10\n"], [
            "a.yaml:5:6: error: 'env' must be a mapping",
            "a.yaml:6:14: error: invalid duration '10' for 'stopTimeout' (use e.g. 500ms, 5s, 2m, 1h30m)",
        ]),
        Case("alias bomb", ["bomb.yaml": billionLaughs],
             ["bomb.yaml:1:4: error: YAML anchors are not allowed in manifests: write the value out"]),
        Case("alias bomb as a mapping key", ["bomb.yaml": billionLaughs + "? *i\n: x\n"],
             ["bomb.yaml:1:4: error: YAML anchors are not allowed in manifests: write the value out"]),
        Case("undefined alias", ["a.yaml": "kind: Job\nname: *web\n"],
             ["a.yaml:2:7: error: YAML aliases are not allowed in manifests: write the value out"]),
        Case("flow nesting bomb", ["deep.yaml": String(repeating: "[", count: 100_000)],
             ["deep.yaml:1:1: error: invalid YAML: nested deeper than 64 levels"]),
        Case("block nesting bomb", ["deep.yaml": (0..<200).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n")],
             ["deep.yaml:64:64: error: invalid YAML: nested deeper than 64 levels"]),
        Case("a 50 MB file", ["huge.yaml": Data(repeating: UInt8(ascii: "#"), count: 50 << 20)],
             ["huge.yaml:1:1: error: file is 52,428,800 bytes; a manifest may be at most 1,048,576 bytes (1 MiB)"]),
        Case("binary junk", ["junk.yaml": Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) })],
             ["junk.yaml:1:1: error: not a text file: manifests are UTF-8 YAML"]),
        Case("control characters", ["ctl.yaml": "kind: Job\nname: \"web\\u0007\"\nversion: '1'\nimage: busybox\n"],
             ["ctl.yaml:2:7: error: invalid name 'web\\u{7}' (allowed: letters, digits, '_', '.', '-')"]),
        Case("names with / and ..", ["a.yaml": """
            kind: Job
            name: a/b
            version: ..
            image: busybox
            ---
            kind: Deployment
            name: ../x
            job: web
            hosts: [../../etc]
            """], [
            "a.yaml:2:7: error: invalid name 'a/b' (allowed: letters, digits, '_', '.', '-')",
            "a.yaml:3:10: error: invalid version '..' (allowed: letters, digits, '_', '.', '-')",
            "a.yaml:7:7: error: invalid name '../x' (allowed: letters, digits, '_', '.', '-')",
            "a.yaml:9:8: error: invalid host name '../../etc' (allowed: letters, digits, '_', '.', '-')",
        ]),
        Case("dangling reference", ["j.yaml": job, "d.yaml": "kind: Deployment\nname: d\njob: wbe\nhosts: [a]\n"],
             ["d.yaml:3:6: error: job 'wbe' is not declared (did you mean 'web'?)"]),
        Case("ambiguous reference", ["j.yaml": job + "---\n" + job.replacingOccurrences(of: "'1'", with: "'2'"),
                                     "d.yaml": "kind: Deployment\nname: d\njob: web\nhosts: [a]\n"],
             ["d.yaml:3:6: error: job 'web' is ambiguous: name one version (web:1, web:2)"]),
        Case("port names that make one HELIOS_PORT_ variable", ["a.yaml": job
            + "ports:\n  http: { internal: 80 }\n  HTTP: { internal: 81 }\n  web-admin: { internal: 82 }\n  web_admin: { internal: 83 }\n"], [
            "a.yaml:7:3: error: ports 'HTTP' and 'http' both become HELIOS_PORT_HTTP in the container: rename one",
            "a.yaml:9:3: error: ports 'web-admin' and 'web_admin' both become HELIOS_PORT_WEB_ADMIN in the container: rename one",
        ]),
        Case("static port clash on a shared host", [
            "a.yaml": job + "ports: { http: { internal: 80, external: 8080 } }\n---\nkind: Deployment\nname: a\njob: web\nhosts: [h1, h2]\n",
            "b.yaml": "kind: Job\nname: api\nversion: '1'\nimage: busybox\nports: { api: { internal: 81, external: 8080 } }\n"
                + "---\nkind: Deployment\nname: b\njob: api\nhosts: [h2]\n",
        ], ["b.yaml:9:6: error: deployments 'a' and 'b' can share a host and both claim external port 8080/tcp"]),
        Case("static ports on disjoint selectors are fine", [
            "a.yaml": job + "ports: { http: { internal: 80, external: 8080 } }\n---\nkind: Deployment\nname: a\njob: web\nhostSelector: [role=web]\n",
            "b.yaml": "kind: Job\nname: api\nversion: '1'\nimage: busybox\nports: { api: { internal: 81, external: 8080 } }\n"
                + "---\nkind: Deployment\nname: b\njob: api\nhostSelector: ['role in (api, db)']\n",
        ], []),
        Case("expires in the past is no error", ["a.yaml": job + "expires: 2020-01-01T00:00:00Z\n"], []),
        Case("invalid selector", ["a.yaml": job + "---\nkind: Deployment\nname: d\njob: web\nhostSelector: ['role ~ web']\n"],
             ["a.yaml:9:15: error: invalid host selector 'role ~ web' (expected key=value, key!=value, key in (a, b) or key notin (a, b))"]),
        Case("no hosts at all", ["a.yaml": job + "---\nkind: Deployment\nname: d\njob: web\n"],
             ["a.yaml:6:1: error: Deployment 'd' needs 'hosts', 'hostSelector' or both"]),
        Case("bad image and port protocol", ["a.yaml": """
            kind: Job
            name: web
            version: '1'
            image: Example/Web:latest
            ports: { http: { internal: 80, protocol: sctp } }
            """], [
            "a.yaml:4:8: error: invalid image reference 'Example/Web:latest'",
            "a.yaml:5:42: error: invalid protocol 'sctp' for port 'http' (tcp or udp)",
        ]),
        Case("unknown kind", ["a.yaml": "kind: Deploymnet\nname: d\n"],
             ["a.yaml:1:7: error: unknown kind 'Deploymnet' (did you mean 'Deployment'?)"]),
        Case("bad helios.yaml", ["helios.yaml": "prune: maybe\nmaxPrune: lots\npoll: 5s\n", "a.yaml": job], [
            "helios.yaml:1:8: error: field 'prune' in helios.yaml must be true or false",
            "helios.yaml:2:11: error: invalid maxPrune 'lots' (a count, e.g. 5, or a share, e.g. 50%)",
            "helios.yaml:3:1: error: unknown field 'poll' in helios.yaml",
        ]),
        // Friction a new user meets on day one.
        Case("a Kubernetes manifest", ["k8s.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"],
             ["k8s.yaml:1:13: error: this looks like a Kubernetes manifest (apiVersion: apps/v1); Helios manifests have kind Job or Deployment and no apiVersion (see docs/manifests.md)"]),
        Case("a tab in the indentation", ["a.yaml": "kind: Job\nname: web\nenv:\n\tA: b\n"],
             ["a.yaml:4:1: error: invalid YAML: a tab character here; YAML indents with spaces only"]),
        // Settings that pass a loose check and then fail, or do nothing, on the agents.
        Case("unknown capability and security option", ["a.yaml": job + "addCapabilities: [NET_ADMINN, CAP_SYS_TIME]\nsecurityOpt: [foo, 'seccomp=unconfined']\n"], [
            "a.yaml:5:19: error: unknown capability 'NET_ADMINN' in addCapabilities (did you mean 'NET_ADMIN'?)",
            "a.yaml:6:15: error: invalid securityOpt 'foo' (expected no-new-privileges, label=…, apparmor=PROFILE, seccomp=PROFILE|unconfined or systempaths=unconfined)",
        ]),
        Case("== in a selector", ["a.yaml": job + "---\nkind: Deployment\nname: d\njob: web\nhostSelector: [\"role==web\"]\n"],
             ["a.yaml:9:15: error: invalid host selector 'role==web': '==' is no operator (did you mean 'role=web'?)"]),
        Case("no host at all", ["a.yaml": job + "---\nkind: Deployment\nname: d\njob: web\nhosts: []\n"],
             ["a.yaml:9:8: error: Deployment 'd' names no host: give hosts, a hostSelector, or remove the deployment"]),
        Case("a job the repository's policy refuses", ["helios.yaml": "policy: { volumeRoots: [/data], capabilities: [NET_ADMIN] }\n",
                                                      "a.yaml": job + "volumes: [\"/etc:/etc\", \"/data/x:/x\"]\naddCapabilities: [SYS_ADMIN]\n"], [
            "a.yaml:1:1: error: job web:1 breaks the policy in helios.yaml: capability SYS_ADMIN is as good as privileged, which the host does not allow",
            "a.yaml:1:1: error: job web:1 breaks the policy in helios.yaml: volume /etc:/etc: the host path /etc is not under an allowed volume root (/data)",
        ]),
        Case("a paths entry selecting nothing", ["helios.yaml": "paths: [jobs, deploy]\n", "jobs/a.yaml": job, "deployments/b.yaml": job],
             ["helios.yaml:1:15: error: paths entry 'deploy' selects no manifest file (did you mean 'deployments'?)"]),
    ]

    @Test(arguments: cases)
    func producesItsDiagnostic(_ testCase: Case) {
        let files = testCase.files.sorted { $0.key < $1.key }.map { ManifestFile(path: $0.key, content: $0.value) }
        let clock = ContinuousClock.now
        let result = ManifestLoader.load(files)
        let found: [String] = switch result {
        case .success: []
        case .failure(let error): error.diagnostics.map(\.description)
        }
        #expect(found == testCase.expected)
        // Generous: a hang would take minutes (the key bomb took 207 s before the preflight).
        #expect(ContinuousClock.now - clock < .seconds(30))
    }

    @Test func anExpiredJobIsAWarningWithItsPlaceAndBlocksNothing() {
        let files = [ManifestFile(path: "a.yaml", content: Data((Self.job + "expires: 2020-01-01T00:00:00Z\n").utf8))]
        let (result, warnings) = ManifestLoader.check(files, now: Date())
        guard case .success(let desired) = result else { Issue.record("an expired job failed validation"); return }
        #expect(desired.jobs.count == 1)
        #expect(warnings.map(\.description) == ["a.yaml:5:10: warning: job web:1 expired at 2020-01-01T00:00:00Z: "
                                                + "the leader undeploys and removes it; remove it from git"])
        #expect(ManifestLoader.check(files, now: Date(timeIntervalSince1970: 0)).warnings.isEmpty)
    }

    @Test func aRepositoryBeyondTheSizeCapIsRefusedWhole() {
        let big = String(repeating: "# padding\n", count: 100_000)
        let files = (0..<70).map { ManifestFile(path: "f\($0).yaml", content: Data(big.utf8)) }
        guard case .failure(let error) = ManifestLoader.load(files) else {
            Issue.record("a 70 MiB repository loaded")
            return
        }
        #expect(error.diagnostics.map(\.message) == ["the manifests add up to 66.8 MiB, more than the limit of 64.0 MiB"])
    }

    @Test func helpYamlPathsSelectWhereManifestsAreRead() throws {
        let files = [
            ManifestFile(path: "helios.yaml", content: Data("paths: [prod]\n".utf8)),
            ManifestFile(path: "prod/web.yaml", content: Data(Self.job.utf8)),
            ManifestFile(path: "staging/broken.yaml", content: Data("kind: [\n".utf8)),
        ]
        let desired = try ManifestLoader.load(files).get()
        #expect(desired.jobs.count == 1)
        #expect(desired.settings.paths == ["prod"])
    }
}
