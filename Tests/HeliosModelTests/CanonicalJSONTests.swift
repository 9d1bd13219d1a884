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
}
