import Foundation
import HeliosModel
@testable import HeliosPlanner
import Testing

/// What the cluster holds once `plan` is applied and its rollouts are done: every task, pending
/// ones too, and every job removal.
func applying(_ plan: Plan, to state: ClusterState) -> ClusterState {
    var whole = plan
    whole.tasks += whole.pending
    whole.pending = []
    whole.changes = plan.changes.map { if case .removeJob(let id, _) = $0 { .removeJob(id, afterRollout: false) } else { $0 } }
    whole.rollouts = []
    return state.applying(whole)
}

/// The plan of `desired` against `actual`; the hosts `desired` names are UP unless `actual` knows its hosts.
func plan(_ desired: DesiredState, _ actual: ClusterState = ClusterState()) -> Plan {
    var actual = actual
    if actual.hosts.isEmpty { actual.hosts = Planner.namedHosts(of: desired) }
    return Planner.plan(desired: desired, actual: actual, base: PlanBase(kind: .empty), target: "test",
                        now: Date(timeIntervalSince1970: 1_000_000_000))
}

struct PlannerTests {
    let web1 = Job(name: "web", version: "1", image: "busybox", command: ["httpd"])
    let web2 = Job(name: "web", version: "2", image: "busybox", command: ["httpd"])

    func desired(_ job: Job, hosts: [String], selector: [String] = [], parallelism: Int = 1,
                 name: String = "web-prod") -> DesiredState {
        DesiredState(jobs: [job.id: job], deployments: [name: Deployment(
            name: name, jobID: job.id, hosts: hosts, hostSelector: selector.map { try! HostSelector(parsing: $0) },
            rollout: RolloutOptions(parallelism: parallelism))])
    }

    @Test func aNewDeploymentCreatesItsJobDeploymentAndOneTaskPerHost() {
        let result = plan(desired(web1, hosts: ["b", "a"]))
        let task = HostTask(jobID: web1.id, goal: .start, deployment: "web-prod")
        let deployment = Deployment(name: "web-prod", jobID: web1.id, hosts: ["a", "b"])
        #expect(result.changes == [
            .createJob(web1, previous: nil),
            .createDeployment(deployment, rollout: Rollout(parallelism: 1, batches: [
                [RolloutStep(host: "a", from: nil, to: web1.id)], [RolloutStep(host: "b", from: nil, to: web1.id)],
            ])),
        ])
        #expect(result.tasks + result.pending == [.deploy(host: "a", task), .deploy(host: "b", task)])
        #expect(result.summary == PlanSummary(add: 2, change: 0, remove: 0))
        #expect(result.warnings.isEmpty && result.errors.isEmpty)
    }

    @Test func aVersionBumpRollsInBatchesAndRemovesTheOldJobAfterTheRollout() {
        let before = applying(plan(desired(web1, hosts: ["a", "b", "c"])), to: ClusterState())
        let result = plan(desired(web2, hosts: ["a", "b", "c"], parallelism: 2), before)
        guard case .updateDeployment(_, _, let fields, let rollout) = result.changes[1] else {
            Issue.record("expected a deployment update, got \(result.changes)")
            return
        }
        #expect(result.changes.first == .createJob(web2, previous: web1))
        #expect(fields.contains(FieldChange(field: "job", old: "web:1", new: "web:2")))
        #expect(fields.contains(FieldChange(field: "rollout.parallelism", old: "1", new: "2")))
        #expect(rollout?.batches.map { $0.map(\.host) } == [["a", "b"], ["c"]])
        #expect(rollout?.batches.first?.first == RolloutStep(host: "a", from: web1.id, to: web2.id))
        #expect(result.changes.last == .removeJob(web1.id, afterRollout: true))
        #expect(result.summary == PlanSummary(add: 1, change: 1, remove: 1, replace: 1))
    }

    @Test func aConfigChangeWithoutAVersionBumpIsAllowedAndWarned() {
        let before = applying(plan(desired(web1, hosts: ["a"])), to: ClusterState())
        var changed = web1
        changed.env = ["LOG_LEVEL": "debug"]
        let result = plan(desired(changed, hosts: ["a"]), before)
        #expect(result.changes.first == .createJob(changed, previous: web1))
        #expect(result.warnings == ["job 'web:1' changed without a version bump (\(web1.id.hash.prefix(8)) → \(changed.id.hash.prefix(8)))"])
        #expect(result.errors.isEmpty)
    }

    @Test func selectorsPickKnownHostsByLabelAndWarnWhenNoneMatch() {
        let hosts = ["h1": HostState(labels: ["role": "web", "zone": "a"]),
                     "h2": HostState(labels: ["role": "web", "zone": "c"]),
                     "h3": HostState(labels: ["role": "db", "zone": "a"], up: false)]
        let selected = plan(desired(web1, hosts: [], selector: ["role=web", "zone in (a, b)"]), ClusterState(hosts: hosts))
        #expect(selected.tasks == [.deploy(host: "h1", HostTask(jobID: web1.id, goal: .start, deployment: "web-prod"))])

        let cache = desired(web1, hosts: [], selector: ["role=cache"])
        let none = Planner.plan(desired: cache, actual: ClusterState(hosts: hosts), base: PlanBase(kind: .cluster),
                                target: "test", now: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(none.tasks.isEmpty)
        #expect(none.warnings == ["deployment 'web-prod': selector role=cache matches no known host"])
        // Offline no host is known: against a git base the warning would be said of every selector.
        let offline = Planner.plan(desired: cache, actual: ClusterState(hosts: hosts), base: PlanBase(kind: .git),
                                   target: "test", now: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(offline.warnings.isEmpty)

        let down = plan(desired(web1, hosts: [], selector: ["role=db"]), ClusterState(hosts: hosts))
        #expect(down.warnings == ["deployment 'web-prod': host h3 is DOWN; its task is written and its rollout skips it"])
    }

    @Test func pruningRespectsProtectPruneOffAndMaxPrune() {
        var both = desired(web1, hosts: ["a"], name: "one")
        both.deployments["two"] = Deployment(name: "two", jobID: web1.id, hosts: ["b"], protect: true)
        let before = applying(plan(both), to: ClusterState())

        // "two" is protected: only "one" goes; the job stays, "two" still uses it.
        var nothing = DesiredState()
        nothing.settings.maxPrune = .percent(100)
        let pruned = plan(nothing, before)
        #expect(pruned.changes.count == 1)
        guard case .removeDeployment(let removed, _) = pruned.changes.first else {
            Issue.record("expected a removal, got \(pruned.changes)")
            return
        }
        #expect(removed.name == "one")
        #expect(pruned.warnings == ["deployment 'two' is protected: kept although git no longer declares it"])

        nothing.settings.prune = false
        #expect(plan(nothing, before).changes.isEmpty)

        nothing.settings.prune = true
        nothing.settings.maxPrune = .count(0)
        #expect(plan(nothing, before).errors
            == ["this change would delete 1 of 2 deployments, more than maxPrune 0 allows (0); nothing is applied. "
                + "To go on, raise maxPrune in helios.yaml (default 50%) for this change, or delete fewer deployments "
                + "per commit (a deployment with protect: true is never deleted)"])
    }

    @Test func deletingEverythingUndeploysBeforeRemoving() {
        let before = applying(plan(desired(web1, hosts: ["a", "b"])), to: ClusterState())
        var nothing = DesiredState()
        nothing.settings.maxPrune = .percent(100)
        let result = plan(nothing, before)
        #expect(result.tasks == [.undeploy(host: "a", web1.id), .undeploy(host: "b", web1.id)])
        #expect(result.changes.last == .removeJob(web1.id, afterRollout: false)) // no rollout waits: removed at once
        #expect(applying(result, to: before).config == ClusterConfig())
    }

    @Test func planningAnAppliedStateGivesAnEmptyPlan() {
        let target = desired(web1, hosts: ["a", "b", "c"])
        let applied = applying(plan(target), to: ClusterState())
        #expect(plan(target, applied).isEmpty)
    }

    @Test func theClusterADesiredStateDeclaresNeedsNoChanges() {
        let target = desired(web1, hosts: ["a", "b"])
        let declared = Planner.cluster(declaring: target)
        #expect(declared.config == applying(plan(target), to: ClusterState()).config)
        #expect(plan(target, declared).isEmpty)
    }

    @Test func theSameInputsGiveTheSamePlan() {
        var target = desired(web1, hosts: (0..<50).map { "host-\($0)" })
        target.jobs[web2.id] = web2
        target.deployments["web-canary"] = Deployment(name: "web-canary", jobID: web2.id, hosts: ["host-7", "host-3"])
        let first = plan(target)
        for _ in 0..<20 {
            #expect(plan(target) == first)
        }
    }
}
