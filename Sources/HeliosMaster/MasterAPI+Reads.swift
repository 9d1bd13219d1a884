import Foundation
import HeliosModel
import HeliosStore
import Hummingbird

/// The read side of the API: the cluster as ZooKeeper holds it, for `helios status`, `hosts`,
/// `jobs`, `deployments` and `history`.
extension MasterAPI {
    func addReads(to router: Router<MasterContext>) {
        router.get("/v1/state") { _, _ -> Response in
            // Secret env values never leave the master: a snapshot holds them masked.
            var state = try await store.readCluster().state
            state.config.jobs = state.config.jobs.mapValues { $0.masked() }
            return Self.json(state)
        }
        router.get("/v1/hosts") { _, _ -> Response in
            let state = try await store.readCluster().state
            return Self.json(state.knownHosts.sorted().map { HostReply(name: $0, state: state) })
        }
        router.get("/v1/hosts/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            let state = try await store.readCluster().state
            guard state.hosts[name] != nil || state.config.tasks[name] != nil else {
                return Self.error("no host \(name)", status: .notFound)
            }
            return Self.json(HostReply(name: name, state: state))
        }
        router.get("/v1/jobs") { _, _ -> Response in
            let state = try await store.readCluster().state
            return Self.json(state.config.jobs.keys.sorted().map { JobReply(id: $0, state: state) })
        }
        router.get("/v1/jobs/:id") { _, context -> Response in
            let state = try await store.readCluster().state
            guard let id = JobID(try context.parameters.require("id")), state.config.jobs[id] != nil else {
                return Self.error("no job \(try context.parameters.require("id"))", status: .notFound)
            }
            return Self.json(JobReply(id: id, state: state))
        }
        router.get("/v1/jobs/:id/history") { _, context -> Response in
            let state = try await store.readCluster().state
            guard let id = JobID(try context.parameters.require("id")), state.config.jobs[id] != nil else {
                return Self.error("no job \(try context.parameters.require("id"))", status: .notFound)
            }
            var history: [String: [TaskStatus]] = [:]
            for host in state.config.tasks.keys.sorted() where state.config.tasks[host]?[id] != nil {
                history[host] = try await store.taskHistory(id, host: host)
            }
            return Self.json(history)
        }
        router.get("/v1/deployments") { _, _ -> Response in
            let snapshot = try await store.readCluster()
            return Self.json(DeploymentReply.all(snapshot))
        }
        router.get("/v1/deployments/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            let snapshot = try await store.readCluster()
            guard snapshot.config.deployments[name] != nil else { return Self.error("no deployment \(name)", status: .notFound) }
            return Self.json(DeploymentReply(name: name, snapshot: snapshot))
        }
    }
}

/// A host: whether its agent is up, its labels, and each task with what the agent reports.
public struct HostReply: Codable, Sendable {
    public struct Task: Codable, Sendable {
        public let jobId: String
        public let deployment: String
        public let goal: String
        public let status: TaskStatus?
    }
    public let name: String
    public let up: Bool
    public let labels: [String: String]
    public let tasks: [Task]

    init(name: String, state: ClusterState) {
        self.name = name
        up = state.hosts[name]?.up ?? false
        labels = state.hosts[name]?.labels ?? [:]
        tasks = (state.config.tasks[name] ?? [:]).values.sorted { $0.jobID < $1.jobID }.map {
            Task(jobId: $0.jobID.description, deployment: $0.deployment, goal: $0.goal.rawValue,
                 status: state.statuses[name]?[$0.jobID])
        }
    }
}

/// A job and where it runs: host → the agent's status (nil until it reports).
public struct JobReply: Codable, Sendable {
    public let id: String
    public let job: Job?
    public let hosts: [String: TaskStatus?]

    init(id: JobID, state: ClusterState) {
        self.id = id.description
        job = state.config.jobs[id]?.masked()
        var hosts: [String: TaskStatus?] = [:]
        for (host, tasks) in state.config.tasks where tasks[id] != nil { hosts[host] = state.statuses[host]?[id] }
        self.hosts = hosts
    }
}

/// A deployment's configuration, its rollout and, per host it targets, its task's state.
public struct DeploymentReply: Codable, Sendable {
    public let name: String
    public let deployment: Deployment?
    /// State → how many of its hosts report it (`PENDING`: no report yet).
    public let states: [String: Int]
    /// Host → the state of its task of this deployment.
    public let hosts: [String: String]
    public let rollout: RolloutStatus?

    init(name: String, snapshot: ConfigSnapshot) {
        self.init(name: name, snapshot: snapshot, hosts: Self.hosts(in: snapshot, of: [name])[name] ?? [:])
    }

    private init(name: String, snapshot: ConfigSnapshot, hosts: [String: String]) {
        self.name = name
        deployment = snapshot.state.config.deployments[name]
        rollout = snapshot.rollouts[name]
        self.hosts = hosts
        states = Dictionary(hosts.values.map { ($0, 1) }, uniquingKeysWith: +)
    }

    /// The replies of `names` (default: every deployment), from one pass over the tasks.
    static func all(_ snapshot: ConfigSnapshot, names: [String]? = nil) -> [DeploymentReply] {
        let names = names ?? snapshot.config.deployments.keys.sorted()
        let hosts = Self.hosts(in: snapshot, of: Set(names))
        return names.map { DeploymentReply(name: $0, snapshot: snapshot, hosts: hosts[$0] ?? [:]) }
    }

    /// Deployment → host → the state of its task there (`PENDING`: no report yet).
    private static func hosts(in snapshot: ConfigSnapshot, of names: Set<String>) -> [String: [String: String]] {
        let state = snapshot.state
        var result: [String: [String: String]] = [:]
        for (host, tasks) in state.config.tasks {
            for task in tasks.values where names.contains(task.deployment) {
                result[task.deployment, default: [:]][host] = state.statuses[host]?[task.jobID]?.state.rawValue ?? "PENDING"
            }
        }
        return result
    }
}
