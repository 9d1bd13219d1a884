import Foundation
@testable import HeliosModel
import Testing

struct JobIdentityTests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba"),
    ])
    func sha1MatchesTheStandardVectors(input: String, digest: String) {
        #expect(SHA1.hex(Array(input.utf8)) == digest)
    }

    @Test func jobIDIsNameVersionAndTheHashOfTheCanonicalJSON() {
        let job = Job(name: "web", version: "1.4.2", image: "example/web:1.4.2", command: ["/bin/web"])
        #expect(job.id.name == "web")
        #expect(job.id.version == "1.4.2")
        #expect(job.id.hash == SHA1.hex(Array(job.canonicalJSON)))
        #expect(String(decoding: job.canonicalJSON, as: UTF8.self)
            == #"{"command":["/bin/web"],"image":"example/web:1.4.2","name":"web","version":"1.4.2"}"#)
    }

    @Test func anEmptyCommandIsTheDefaultAndKeepsTheID() {
        let implicit = Job(name: "web", version: "1", image: "busybox")
        let explicit = Job(name: "web", version: "1", image: "busybox", command: [])
        #expect(implicit.id == explicit.id)
    }

    @Test func everyRealChangeChangesTheID() {
        let base = Job(name: "web", version: "1", image: "busybox", command: ["httpd"])
        let changes = [
            Job(name: "web2", version: "1", image: "busybox", command: ["httpd"]),
            Job(name: "web", version: "2", image: "busybox", command: ["httpd"]),
            Job(name: "web", version: "1", image: "busybox:1.36", command: ["httpd"]),
            Job(name: "web", version: "1", image: "busybox", command: ["httpd", "-f"]),
            Job(name: "web", version: "1", image: "busybox"),
        ]
        for changed in changes {
            #expect(changed.id != base.id, "\(changed) kept the id of \(base)")
        }
    }

    @Test func jobIDParsesItsOwnTextAndRefusesPathEscapes() throws {
        let id = Job(name: "web", version: "1.0", image: "busybox").id
        #expect(JobID(id.description) == id)
        #expect(id.short == "web:1.0:\(id.hash.prefix(8))")
        for bad in ["web:1", "web:1:xyz", "../x:1:abc", "web/x:1:abc", "web:..:abc", "web:1:abc:d"] {
            #expect(JobID(bad) == nil, "accepted \(bad)")
        }
        let decoded = try JSONDecoder().decode([JobID].self, from: JSONEncoder().encode([id]))
        #expect(decoded == [id])
    }

    @Test(arguments: ["web", "web-1.2_b", "A9"]) func validNames(name: String) {
        #expect(Names.isValid(name))
    }

    @Test(arguments: ["", ".", "..", "a/b", "a b", "a:b", "a\u{0}b", "naïve"]) func invalidNames(name: String) {
        #expect(!Names.isValid(name))
    }
}

struct StoredFormatTests {
    @Test func aDeploymentWrittenByTheFirstReleaseStillReads() throws {
        let id = Job(name: "web", version: "1", image: "busybox").id
        let old = Data(#"{"hosts":["a"],"jobId":"\#(id)","name":"web-prod"}"#.utf8)
        let deployment = try CanonicalJSON.decode(Deployment.self, from: old)
        #expect(deployment == Deployment(name: "web-prod", jobID: id, hosts: ["a"]))
        #expect(deployment.rollout == RolloutOptions())
    }

    @Test func aDeploymentRoundTripsThroughItsStoredForm() throws {
        let id = Job(name: "web", version: "1", image: "busybox").id
        let deployment = Deployment(name: "d", jobID: id, hosts: ["b", "a", "a"],
                                    hostSelector: [try HostSelector(parsing: "zone in (a, b)")], goal: .stop, protect: true,
                                    rollout: RolloutOptions(parallelism: 3, timeout: 60_000), source: Source(file: "d.yaml", revision: nil))
        #expect(deployment.hosts == ["a", "b"])
        #expect(try CanonicalJSON.decode(Deployment.self, from: CanonicalJSON.encode(deployment)) == deployment)
    }
}
