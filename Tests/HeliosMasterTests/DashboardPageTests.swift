import Foundation
@testable import HeliosMaster
import HeliosModel
import HeliosPlanner
import HeliosStore
import Testing

/// The dashboard's pages for a large cluster stay small (aggregated and paged), and what they
/// show comes from the cluster: names, states, reasons.
struct DashboardPageTests {
    /// 10,000 deployments of one host each over 2,000 hosts (5 tasks a host), all RUNNING but one FLAPPING.
    static func largeCluster() -> ConfigSnapshot {
        var desired = DesiredState()
        var hosts: [String: HostState] = [:]
        for index in 0..<2_000 { hosts[String(format: "host-%04d", index)] = HostState(labels: ["zone": index % 2 == 0 ? "a" : "b"]) }
        for index in 0..<10_000 {
            let job = Job(name: "service-\(index)", version: "1", image: "registry.example.com/team/service-\(index):1")
            desired.jobs[job.id] = job
            desired.deployments["service-\(index)"] = Deployment(name: "service-\(index)", jobID: job.id,
                                                                 hosts: [String(format: "host-%04d", index % 2_000)])
        }
        var state = Planner.cluster(declaring: desired, hosts: hosts)
        for (host, tasks) in state.config.tasks {
            state.statuses[host] = tasks.mapValues { TaskStatus(jobID: $0.jobID, goal: .start, state: .running) }
        }
        let flapping = state.config.deployments["service-0"]!.jobID
        state.statuses["host-0000"]![flapping] = TaskStatus(jobID: flapping, goal: .start, state: .running, throttled: .flapping)
        return ConfigSnapshot(state: state, hostDirectories: Set(state.config.tasks.keys))
    }

    @Test func everyPageOfALargeClusterStaysUnder500KB() {
        let snapshot = Self.largeCluster()
        for page in Dashboard.measuredPages {
            let html = Dashboard.render(page: page, of: snapshot)
            #expect(html.utf8.count < 500 * 1024, "\(page): \(html.utf8.count) bytes")
            #expect(html.contains("<main"), "\(page) rendered")
        }
        let overview = Dashboard.render(page: "overview", of: snapshot)
        #expect(overview.contains(#"data-test="hosts-up">2000<"#))
        #expect(overview.contains(#"data-test="deployments-in-sync">10000<"#))
        let matrix = Dashboard.render(page: "deployments", of: snapshot)
        #expect(matrix.contains("10000 in all · page 1 of 200"))
        #expect(matrix.contains(#"title="throttled: FLAPPING""#), "the throttle is on hover")
        #expect(matrix.contains(">FLAPPING<"), "and in text")
    }

    @Test func namesFromManifestsAreEscaped() {
        var snapshot = ConfigSnapshot(state: ClusterState(), hostDirectories: [])
        snapshot.syncRecord = SyncRecord(repo: "r", branch: "main", lastAppliedRevision: nil, lastAttemptedRevision: String(repeating: "a", count: 40),
                                         status: .failed, reason: .invalidManifests, appliedAt: nil,
                                         summary: "<script>alert(1)</script>", diagnostics: ["web.yaml:1:2: error: <b>"])
        let overview = Dashboard.render(page: "overview", of: snapshot)
        #expect(!overview.contains("<script>alert") && overview.contains("&lt;script&gt;"))
        #expect(!overview.contains("<b>"))
    }

    @Test func aDiagnosticLinksToTheRepositoryBrowserOnlyWhenItNamesAFilePosition() {
        let browse = "https://git.example.com/blob/{revision}/{file}#L{line}"
        #expect(DashboardPages.diagnostic("jobs/web.yaml:12:3: error: unknown field", revision: "abc", browse: browse).href
            == "https://git.example.com/blob/abc/jobs/web.yaml#L12")
        #expect(DashboardPages.diagnostic("rollout of web to web:4:d75f failed", revision: "abc", browse: browse).href == nil)
        #expect(DashboardPages.diagnostic("jobs/web.yaml:12:3: error", revision: "abc", browse: nil).href == nil)
    }

    @Test func aCommitsOutcomeIsHowTheRolloutsItStartedWentNamingTheBadOnes() {
        let v1 = Job(name: "web", version: "1", image: "web:1").id, v2 = Job(name: "web", version: "2", image: "web:2").id
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func record(_ job: JobID, _ state: RolloutStatus.State, _ revision: String) -> RolloutRecord {
            RolloutRecord(jobID: job, previousJobID: nil, state: state, revision: revision, startedAt: start, endedAt: start, error: nil)
        }
        // web: rev-a rolled out v1 (DONE), rev-b v2 and it was rolled back; api: rev-b, still rolling out; db: rev-a, DONE.
        let rollouts: [String: RolloutStatus] = [
            "web": RolloutStatus(deployment: "web", state: .rolledBack, jobID: v2, previousJobID: v1, batches: [["h"]],
                                 batchStartedAt: start, revision: "rev-b", history: [record(v1, .done, "rev-a")]),
            "api": RolloutStatus(deployment: "api", state: .rollingOut, jobID: v2, previousJobID: nil, batches: [["h"]],
                                 batchStartedAt: start, revision: "rev-b"),
            "db": RolloutStatus(deployment: "db", state: .done, jobID: v1, previousJobID: nil, batches: [["h"]],
                                batchStartedAt: start, revision: "rev-a"),
        ]
        let outcomes = DashboardPages.outcomes(rollouts)
        #expect(outcomes["rev-a"]?.map { "\($0.count) \($0.state)" } == ["2 DONE"])
        #expect(outcomes["rev-b"]?.map { "\($0.count) \($0.state) \($0.deployments ?? "")" } == ["1 ROLLED_BACK web", "1 ROLLING_OUT api"])
        #expect(outcomes["rev-c"] == nil)
    }
}
