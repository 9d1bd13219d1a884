import Foundation
import HeliosModel
@testable import HeliosPlanner
import Testing

struct RolloutStagingTests {
    let hosts = ["h1", "h2", "h3", "h4"]

    func cluster(running job: Job, parallelism: Int) -> (ClusterState, Deployment) {
        var desired = DesiredState()
        desired.jobs[job.id] = job
        var deployment = Deployment(name: "web", jobID: job.id, hosts: hosts)
        deployment.rollout.parallelism = parallelism
        desired.deployments["web"] = deployment
        return (Planner.cluster(declaring: desired), deployment)
    }

    @Test func aVersionBumpWritesOnlyTheFirstBatchAndKeepsTheOldJob() {
        let old = Job(name: "web", version: "1", image: "web:1")
        let new = Job(name: "web", version: "2", image: "web:2")
        let (actual, deployment) = cluster(running: old, parallelism: 2)
        var desired = DesiredState()
        desired.jobs[new.id] = new
        var bumped = deployment
        bumped.jobID = new.id
        desired.deployments["web"] = bumped
        let plan = Planner.plan(desired: desired, actual: actual, base: PlanBase(kind: .cluster), target: "t")
        let now = Date(timeIntervalSince1970: 1_000)

        let staged = RolloutStaging.stage(plan, now: now, revision: "abc")
        #expect(staged.rollouts == [RolloutStatus(deployment: "web", state: .rollingOut, jobID: new.id, previousJobID: old.id,
                                                  batches: [["h1", "h2"], ["h3", "h4"]], batchStartedAt: now, revision: "abc")])
        // Only h1 and h2 move now; h3 and h4 keep the old job, which is therefore not removed.
        #expect(staged.tasks == [
            .undeploy(host: "h1", old.id), .undeploy(host: "h2", old.id),
            .deploy(host: "h1", HostTask(jobID: new.id, goal: .start, deployment: "web")),
            .deploy(host: "h2", HostTask(jobID: new.id, goal: .start, deployment: "web")),
        ])
        #expect(plan.changes.contains { if case .removeJob(old.id, _) = $0 { true } else { false } })
        #expect(!staged.changes.contains { if case .removeJob = $0 { true } else { false } })

        // The next batch, as the controller writes it.
        var cluster = actual.config.tasks
        for host in ["h1", "h2"] { cluster[host] = [new.id: HostTask(jobID: new.id, goal: .start, deployment: "web")] }
        #expect(RolloutStaging.move(["h3", "h4"], of: bumped, to: new.id, tasks: cluster) == [
            .undeploy(host: "h3", old.id), .deploy(host: "h3", HostTask(jobID: new.id, goal: .start, deployment: "web")),
            .undeploy(host: "h4", old.id), .deploy(host: "h4", HostTask(jobID: new.id, goal: .start, deployment: "web")),
        ])
        // Moving a host that already runs the job writes nothing.
        #expect(RolloutStaging.move(["h1"], of: bumped, to: new.id, tasks: cluster).isEmpty)
    }

    @Test func aPlanWithoutJobChangesIsLeftAsItIs() {
        let job = Job(name: "web", version: "1", image: "web:1")
        let (actual, deployment) = cluster(running: job, parallelism: 1)
        var desired = DesiredState()
        desired.jobs[job.id] = job
        var stopped = deployment
        stopped.goal = .stop
        desired.deployments["web"] = stopped
        let plan = Planner.plan(desired: desired, actual: actual, base: PlanBase(kind: .cluster), target: "t")
        #expect(!plan.tasks.isEmpty)
        #expect(RolloutStaging.stage(plan, now: Date(), revision: nil) == plan)
    }
}
