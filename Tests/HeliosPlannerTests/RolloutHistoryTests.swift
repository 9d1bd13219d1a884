import Foundation
import HeliosModel
@testable import HeliosPlanner
import Testing

/// Each rollout keeps the deployment's earlier ones (bounded): how each ended, from which commit,
/// started and ended when — what the dashboard's deployment page lists.
struct RolloutHistoryTests {
    func version(_ number: Int) -> Job { Job(name: "web", version: "\(number)", image: "busybox", command: ["httpd"]) }

    func desired(_ job: Job) -> DesiredState {
        DesiredState(jobs: [job.id: job], deployments: ["web": Deployment(name: "web", jobID: job.id, hosts: ["a", "b"])])
    }

    /// The cluster running `job` with `rollout` as the deployment's last rollout.
    func cluster(running job: Job, rollout: RolloutStatus) -> ClusterState {
        var state = applying(plan(desired(job)), to: ClusterState(hosts: ["a": HostState(), "b": HostState()]))
        state.rollouts = ["web": rollout]
        return state
    }

    @Test func aNewRolloutRecordsTheOneBeforeAndAReplacedRunningOneIsSuperseded() throws {
        let start = Date(timeIntervalSince1970: 999_999_000)
        var done = RolloutStatus(deployment: "web", state: .done, jobID: version(1).id, previousJobID: nil, batches: [["a"], ["b"]],
                                 batch: 1, batchStartedAt: start, revision: "r1", endedAt: start.addingTimeInterval(30), startedAt: start)
        let second = try #require(plan(desired(version(2)), cluster(running: version(1), rollout: done)).rollouts.first)
        #expect(second.startedAt == Date(timeIntervalSince1970: 1_000_000_000))
        #expect(second.history == [RolloutRecord(jobID: version(1).id, previousJobID: nil, state: .done, revision: "r1",
                                                 startedAt: start, endedAt: start.addingTimeInterval(30), error: nil)])

        // Replaced while still rolling out: recorded as superseded, after the ones before it.
        var running = second
        running.revision = "r2"
        let third = try #require(plan(desired(version(3)), cluster(running: version(2), rollout: running)).rollouts.first)
        #expect(third.history.map(\.state) == [.done, .superseded])
        #expect(third.history.last?.revision == "r2")

        // Bounded: the oldest go.
        done.history = (0..<RolloutStatus.historyLimit).map { index in
            RolloutRecord(jobID: version(1).id, previousJobID: nil, state: .done, revision: "old-\(index)", startedAt: nil,
                          endedAt: nil, error: nil)
        }
        let bounded = try #require(plan(desired(version(2)), cluster(running: version(1), rollout: done)).rollouts.first)
        #expect(bounded.history.count == RolloutStatus.historyLimit)
        #expect(bounded.history.first?.revision == "old-1" && bounded.history.last?.revision == "r1")
    }

    @Test func aStatusWrittenBeforeHistoryExistedStillReads() throws {
        let old = #"{"batch":0,"batchStartedAt":"2026-01-01T00:00:00Z","batches":[["a"]],"deployment":"web","healthySince":{},"jobId":"web:1:\#(String(repeating: "a", count: 40))","retiring":[],"skipped":[],"state":"DONE"}"#
        let status = try CanonicalJSON.decode(RolloutStatus.self, from: Data(old.utf8))
        #expect(status.history.isEmpty && status.startedAt == nil)
        #expect(try CanonicalJSON.decode(RolloutStatus.self, from: CanonicalJSON.encode(status)) == status)
    }
}
