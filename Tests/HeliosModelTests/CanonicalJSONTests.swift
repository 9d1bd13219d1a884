import Foundation
@testable import HeliosModel
import Testing

struct CanonicalJSONTests {
    @Test func keysSortByCodeUnitsNotByLocale() {
        // JSONEncoder's .sortedKeys would put "a9" before "a10", "a" next to "B" and "LOG_LEVEL"
        // before "LOGIN": a locale-aware order that is "subject to change".
        let value = ["b": 1, "B": 2, "a10": 3, "a9": 4, "LOG_LEVEL": 5, "LOGIN": 6]
        #expect(String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
            == #"{"B":2,"LOGIN":6,"LOG_LEVEL":5,"a10":3,"a9":4,"b":1}"#)
    }

    @Test func stringsAreEscapedOnlyWhereJSONRequires() {
        let text = "quote \" backslash \\ slash / tab \t newline \n bell \u{7} é ☃"
        #expect(String(decoding: CanonicalJSON.encode([text]), as: UTF8.self)
            == #"["quote \" backslash \\ slash / tab \t newline \n bell \u0007 é ☃"]"#)
    }

    @Test func aJobWithEveryFieldRoundTripsAndKeepsItsID() throws {
        var job = Job(name: "web", version: "2", image: "registry.local/web:2", command: ["httpd", "-f"])
        job.env = ["LOG_LEVEL": "info", "QUOTE": "say \"hi\""]
        job.ports = ["http": PortMapping(internal: 80, external: 8080), "dns": PortMapping(internal: 53, protocol: "udp")]
        job.healthCheck = HealthCheck(http: HealthCheck.HTTP(port: "http", path: "/healthz"))
        job.gracePeriod = 5_000
        job.stopTimeout = 30_000
        job.volumes = ["/data:/data:ro"]
        job.ramdisks = ["/tmp": "rw,size=64m"]
        job.networkMode = "host"
        job.hostname = "web"
        job.labels = ["team": "edge"]
        job.metadata = ["owner": "ops"]
        job.addCapabilities = ["NET_ADMIN"]
        job.securityOpt = ["no-new-privileges"]
        job.expires = Date(timeIntervalSince1970: 2_000_000_000)
        let data = CanonicalJSON.encode(job)
        #expect(try CanonicalJSON.decode(Job.self, from: data) == job)
        #expect(String(decoding: data, as: UTF8.self).contains(#""expires":"2033-05-18T03:33:20Z""#))
        // Encoding is a function of the value: the same bytes every time.
        #expect(CanonicalJSON.encode(job) == data)
    }

    @Test func aRolloutStatusKeepsWhenEachHostTurnedHealthyToTheMillisecond() throws {
        let job = Job(name: "web", version: "2", image: "web:2")
        let since = Date(timeIntervalSince1970: 1_000_000.987)
        let status = RolloutStatus(deployment: "web", state: .rollingOut, jobID: job.id, previousJobID: nil, batches: [["h1"]],
                                   batchStartedAt: Date(timeIntervalSince1970: 1_000_000), healthySince: ["h1": since])
        let read = try CanonicalJSON.decode(RolloutStatus.self, from: CanonicalJSON.encode(status))
        // Whole seconds would count a 1 s minHealthy from 0.987 s earlier than the host turned healthy.
        #expect(abs(try #require(read.healthySince["h1"]).timeIntervalSince(since)) < 0.002)
        #expect(read == RolloutStatus(deployment: "web", state: .rollingOut, jobID: job.id, previousJobID: nil, batches: [["h1"]],
                                      batchStartedAt: Date(timeIntervalSince1970: 1_000_000), healthySince: read.healthySince))
    }

    @Test func deploymentsAndTasksRoundTrip() throws {
        let job = Job(name: "web", version: "1", image: "busybox")
        let deployment = Deployment(name: "web", jobID: job.id, hosts: ["b", "a"],
                                    hostSelector: [try HostSelector(parsing: "role in (web, edge)")], goal: .stop,
                                    protect: true, rollout: RolloutOptions(parallelism: 3, overlap: true),
                                    source: Source(file: "web.yaml", revision: "abc"))
        #expect(try CanonicalJSON.decode(Deployment.self, from: CanonicalJSON.encode(deployment)) == deployment)
        let task = HostTask(jobID: job.id, goal: .start, deployment: "web")
        #expect(String(decoding: CanonicalJSON.encode(task), as: UTF8.self)
            == #"{"deployment":"web","goal":"START","jobId":"\#(job.id)"}"#)
    }

    @Test func handWrittenEncodingsEqualTheGenericOne() throws {
        let job = Job(name: "web", version: "1", image: "busybox")
        var checked = 0
        for goal in [DeploymentGoal.start, .stop] {
            for selectors in [[], ["role=web"], ["zone in (a, b)", "tier!=db"]] {
                for source in [nil, Source(file: "a/web.yaml", revision: nil), Source(file: "w.yaml", revision: "abc\"")] {
                    for hosts in [[], ["b", "a"]] {
                        let deployment = Deployment(
                            name: "web-\(checked)", jobID: job.id, hosts: hosts,
                            hostSelector: try selectors.map { try HostSelector(parsing: $0) }, goal: goal,
                            protect: checked % 2 == 0,
                            rollout: RolloutOptions(parallelism: checked % 4 + 1, overlap: checked % 3 == 0, timeout: 1_000 * Int64(checked),
                                                    minHealthy: Int64(checked), ignoreFailures: checked % 5 == 0, autoRollback: checked % 2 == 1),
                            source: source)
                        #expect(CanonicalJSON.encode(deployment) == CanonicalJSON.encodeGenerically(deployment))
                        checked += 1
                    }
                }
            }
        }
        for goal in [Goal.start, .stop, .undeploy] {
            let task = HostTask(jobID: job.id, goal: goal, deployment: "web \"quoted\"")
            #expect(CanonicalJSON.encode(task) == CanonicalJSON.encodeGenerically(task))
        }
        #expect(checked == 36)
    }

    @Test func aJobsHandWrittenEncodingEqualsTheGenericOneWhateverItSets() {
        var full = Job(name: "web \"1\"", version: "1.0", image: "registry.local:5000/web@sha256:" + String(repeating: "a", count: 64),
                       command: ["sh", "-c", "echo \\ \n"])
        full.env = ["B": "1", "a": "x\ty", "é": "", "a\"b": "q", "A_TOKEN": "s3cret"]
        full.secrets = ["DB_PASSWORD": "db-password"]
        full.ports = ["http": PortMapping(internal: 80, external: 8080, protocol: "udp"), "admin": PortMapping(internal: 9000)]
        full.healthCheck = HealthCheck(http: .init(port: "http", path: "/health"), tcp: .init(port: "admin"), exec: ["true"])
        full.gracePeriod = 500
        full.stopTimeout = 0
        full.volumes = ["/data:/data:ro", "/cache"]
        full.ramdisks = ["/tmp": "rw,size=64m"]
        full.resources = Resources(memory: 1 << 30, memorySwap: 2 << 30, cpuShares: 512, cpuset: "0-1")
        full.networkMode = "host"
        full.hostname = "web-1"
        full.labels = ["team": "core", "Tier": "1"]
        full.metadata = ["owner": "ops"]
        full.addCapabilities = ["NET_ADMIN"]
        full.dropCapabilities = ["ALL"]
        full.securityOpt = ["no-new-privileges"]
        full.registration = ["web/http": Registration(port: "http")]
        full.expires = Date(timeIntervalSince1970: 2_000_000_000)
        full.sensitive = ["B"]
        // Every field on its own, left out: each member and its comma are right wherever it stands.
        let unsetters: [(inout Job) -> Void] = [
            { $0.command = nil }, { $0.env = nil }, { $0.secrets = nil }, { $0.ports = nil }, { $0.healthCheck = nil },
            { $0.healthCheck?.http = nil }, { $0.healthCheck?.tcp = nil }, { $0.healthCheck?.exec = nil },
            { $0.gracePeriod = nil }, { $0.stopTimeout = nil }, { $0.volumes = nil }, { $0.ramdisks = nil },
            { $0.resources = nil }, { $0.resources?.cpuset = nil }, { $0.resources?.memory = nil }, { $0.networkMode = nil },
            { $0.hostname = nil }, { $0.labels = nil }, { $0.metadata = nil }, { $0.addCapabilities = nil },
            { $0.dropCapabilities = nil }, { $0.securityOpt = nil }, { $0.registration = nil }, { $0.expires = nil },
            { $0.sensitive = nil }, { $0.env = [:] }, { $0.ports?["http"]?.external = nil }, { $0.ports?["http"]?.protocol = nil },
        ]
        var jobs = [full, Job(name: "web", version: "1", image: "busybox")]
        for unset in unsetters {
            var job = full
            unset(&job)
            jobs.append(job)
        }
        for job in jobs {
            #expect(CanonicalJSON.encode(job) == CanonicalJSON.encodeGenerically(job),
                    "\(String(decoding: CanonicalJSON.encode(job), as: UTF8.self))")
            #expect(CanonicalJSON.encode(job.normalised()) == CanonicalJSON.encodeGenerically(job.normalised()))
        }
    }
}
