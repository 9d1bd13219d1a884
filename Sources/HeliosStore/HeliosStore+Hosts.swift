import Foundation
import HeliosModel
import ZooKeeper

extension HeliosStore {
    /// Marks `host` UP with an ephemeral node of this session, holding `agentID`, and records
    /// its facts.
    ///
    /// An `up` node of the same agent (the same id: a restart before its old session expired)
    /// is replaced. One of another agent is not: two agents must never run one host's tasks,
    /// so this throws `HeliosStoreError.hostTaken` until that agent's session ends.
    public func registerHost(_ host: String, agentID: String, info: HostInfo, labels: [String: String] = [:]) async throws {
        let up = Paths.hostUp(host)
        try await session.createPath(Paths.taskStatuses(host))
        while true {
            do {
                let (holder, stat) = try await session.get(up)
                guard stat.ephemeralOwner != session.sessionID else { break } // already ours
                let other = String(decoding: holder, as: UTF8.self)
                guard other == agentID else { throw HeliosStoreError.hostTaken(host: host, agentID: other) }
                try? await session.delete(up, version: stat.version)
            } catch let error as ZooKeeperError where error.code == .noNode {}
            do {
                // Owned: a renewed session (after an expiry) marks the host UP again.
                try await session.createEphemeral(up, data: Data(agentID.utf8))
                break
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue // another agent came first: look again at who holds it
            }
        }
        try await put(Paths.hostInfo(host), CanonicalJSON.encode(info))
        try await put(Paths.hostLabels(host), CanonicalJSON.encode(labels))
    }

    /// Whether this session holds `host`'s registration for `agentID`: its `up` node is this
    /// session's and names that agent. An agent that does not may change nothing of the host.
    public func holdsRegistration(of host: String, agentID: String) async throws -> Bool {
        do {
            let (holder, stat) = try await session.get(Paths.hostUp(host))
            return stat.ephemeralOwner == session.sessionID && String(decoding: holder, as: UTF8.self) == agentID
        } catch let error as ZooKeeperError where error.code == .noNode {
            return false
        }
    }

    /// What the agents of `hosts` tell of them (agent and Docker versions), pipelined; a host
    /// whose agent never registered has none.
    public func hostInfos(_ hosts: [String]) async throws -> [String: HostInfo] {
        let infos = try await decodeAll(HostInfo.self, at: hosts.map { Paths.hostInfo($0) })
        return Dictionary(uniqueKeysWithValues: zip(hosts, infos).compactMap { host, info in info.map { (host, $0) } })
    }

    /// Whether `host`'s agent holds a live session.
    public func isUp(_ host: String) async throws -> Bool {
        try await session.exists(Paths.hostUp(host)) != nil
    }

    /// Writes what the agent sees of a task.
    public func setTaskStatus(_ status: TaskStatus, host: String) async throws {
        try await put(Paths.taskStatus(host, status.jobID), CanonicalJSON.encode(status))
    }

    /// Forgets a task's status once its job is gone from the host.
    public func removeTaskStatus(_ id: JobID, host: String) async throws {
        do {
            try await session.delete(Paths.taskStatus(host, id))
        } catch let error as ZooKeeperError where error.code == .noNode {}
    }

    /// When ZooKeeper recorded a task's steps on `host`, to the millisecond by its server's clock
    /// (a status' own `at` is to the second): the master's write of the task, the agent's first
    /// status of it and its latest. nil while the task is not written. What `make bench` breaks
    /// a deployment's time down by.
    public func taskTimes(_ id: JobID, host: String) async throws -> TaskTimes? {
        func stat(_ path: String) async throws -> NodeStat? { try await session.exists(path) }
        guard let assigned = try await stat(Paths.hostTask(host, id)) else { return nil }
        let status = try await stat(Paths.taskStatus(host, id))
        func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
        return TaskTimes(assigned: date(assigned.createdTime), firstReported: status.map { date($0.createdTime) },
                         lastReported: status.map { date($0.modifiedTime) })
    }

    /// What the agent of `host` reports of the task for `id`, if anything.
    public func taskStatus(_ id: JobID, host: String) async throws -> TaskStatus? {
        try await decode(TaskStatus.self, at: Paths.taskStatus(host, id))
    }

    /// What the agent of `host` reports of each of its tasks.
    public func taskStatuses(host: String) async throws -> [JobID: TaskStatus] {
        let ids = try await children(Paths.taskStatuses(host)).compactMap { JobID($0) }
        let statuses = try await decodeAll(TaskStatus.self, at: ids.map { Paths.taskStatus(host, $0) })
        var result: [JobID: TaskStatus] = [:]
        for (id, status) in zip(ids, statuses) { result[id] = status }
        return result
    }
}

/// When ZooKeeper recorded a task's steps on a host (`HeliosStore.taskTimes`).
public struct TaskTimes: Sendable, Equatable {
    /// The master wrote the task to the host.
    public var assigned: Date
    /// The agent first reported it, and last: nil until the agent has.
    public var firstReported: Date?
    public var lastReported: Date?
}
