import HeliosModel
@testable import HeliosPlanner
import Testing

struct PlannerTests {
    let web1 = Job(name: "web", version: "1", image: "busybox", command: ["httpd"])
    let web2 = Job(name: "web", version: "2", image: "busybox", command: ["httpd"])

    func desired(_ job: Job, hosts: [String]) -> DesiredState {
        DesiredState(jobs: [job.id: job],
                     deployments: ["web-prod": Deployment(name: "web-prod", jobID: job.id, hosts: hosts)])
    }

    /// What ZooKeeper would hold after applying `plan`: the store's effect, as plain values.
    func applying(_ plan: Plan, to config: ClusterConfig) -> ClusterConfig {
        var config = config
        for action in plan.actions {
            switch action {
            case .createJob(let job): config.jobs[job.id] = job
            case .removeJob(let id): config.jobs[id] = nil
            case .createDeployment(let deployment), .updateDeployment(_, let deployment):
                config.deployments[deployment.name] = deployment
            case .removeDeployment(let name): config.deployments[name] = nil
            case .deployTask(let host, let task), .updateTask(let host, let task):
                config.tasks[host, default: [:]][task.jobID] = task
            case .undeployTask(let host, let id):
                config.tasks[host]?[id] = nil
                if config.tasks[host]?.isEmpty == true { config.tasks[host] = nil }
            }
        }
        return config
    }

    @Test func aNewDeploymentCreatesItsJobDeploymentAndOneTaskPerHost() {
        let plan = Planner.plan(desired: desired(web1, hosts: ["b", "a"]), actual: ClusterConfig())
        let task = HostTask(jobID: web1.id, goal: .start, deployment: "web-prod")
        #expect(plan.actions == [
            .createJob(web1),
            .createDeployment(Deployment(name: "web-prod", jobID: web1.id, hosts: ["a", "b"])),
            .deployTask(host: "a", task),
            .deployTask(host: "b", task),
        ])
    }

    @Test func aVersionBumpSwapsTasksAndRemovesTheOldJobLast() {
        let before = applying(Planner.plan(desired: desired(web1, hosts: ["a"]), actual: ClusterConfig()),
                              to: ClusterConfig())
        let plan = Planner.plan(desired: desired(web2, hosts: ["a"]), actual: before)
        #expect(plan.actions == [
            .createJob(web2),
            .updateDeployment(old: Deployment(name: "web-prod", jobID: web1.id, hosts: ["a"]),
                              new: Deployment(name: "web-prod", jobID: web2.id, hosts: ["a"])),
            .undeployTask(host: "a", web1.id),
            .deployTask(host: "a", HostTask(jobID: web2.id, goal: .start, deployment: "web-prod")),
            .removeJob(web1.id),
        ])
    }

    @Test func deletingEverythingUndeploysBeforeRemoving() {
        let before = applying(Planner.plan(desired: desired(web1, hosts: ["a", "b"]), actual: ClusterConfig()),
                              to: ClusterConfig())
        let plan = Planner.plan(desired: DesiredState(), actual: before)
        #expect(plan.actions == [
            .undeployTask(host: "a", web1.id),
            .undeployTask(host: "b", web1.id),
            .removeDeployment("web-prod"),
            .removeJob(web1.id),
        ])
        #expect(applying(plan, to: before) == ClusterConfig())
    }

    @Test func movingADeploymentBetweenHostsTouchesOnlyTheChangedHosts() {
        let before = applying(Planner.plan(desired: desired(web1, hosts: ["a", "b"]), actual: ClusterConfig()),
                              to: ClusterConfig())
        let plan = Planner.plan(desired: desired(web1, hosts: ["b", "c"]), actual: before)
        #expect(plan.actions == [
            .updateDeployment(old: Deployment(name: "web-prod", jobID: web1.id, hosts: ["a", "b"]),
                              new: Deployment(name: "web-prod", jobID: web1.id, hosts: ["b", "c"])),
            .undeployTask(host: "a", web1.id),
            .deployTask(host: "c", HostTask(jobID: web1.id, goal: .start, deployment: "web-prod")),
        ])
    }

    @Test func planningAnAppliedStateGivesAnEmptyPlan() {
        let target = desired(web1, hosts: ["a", "b", "c"])
        let applied = applying(Planner.plan(desired: target, actual: ClusterConfig()), to: ClusterConfig())
        #expect(Planner.plan(desired: target, actual: applied).isEmpty)
    }

    @Test func theSameInputsGiveTheSamePlan() {
        var target = desired(web1, hosts: (0..<50).map { "host-\($0)" })
        target.jobs[web2.id] = web2
        target.deployments["web-canary"] = Deployment(name: "web-canary", jobID: web2.id, hosts: ["host-7", "host-3"])
        let first = Planner.plan(desired: target, actual: ClusterConfig())
        for _ in 0..<20 {
            #expect(Planner.plan(desired: target, actual: ClusterConfig()) == first)
        }
    }
}
