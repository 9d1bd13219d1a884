import Foundation
import HeliosModel
import ZooKeeper

/// One applied revision (`/sync/revisions/<seq>`): what a rollback returns to.
public struct AppliedRevision: Sendable, Equatable, Codable {
    public var revision: String
    public var appliedAt: String
    public var summary: String
    /// The plan the revision applied, secrets masked; nil when it was larger than `planLimit`
    /// (`planOmitted`) or written by an older Helios.
    public var plan: Plan?
    public var planOmitted: Bool?

    /// The largest plan kept with its revision (a ZooKeeper node holds 1 MiB; twenty are kept).
    public static let planLimit = 256 * 1024

    public init(revision: String, appliedAt: String, summary: String, plan: Plan? = nil) {
        self.revision = revision
        self.appliedAt = appliedAt
        self.summary = summary
        self.plan = plan?.masked()
    }
}

extension HeliosStore {
    /// How many status events each task keeps.
    public static let taskHistoryLimit = 30
    /// How many applied revisions the cluster keeps.
    public static let revisionHistoryLimit = 20

    /// Appends a task's status to its history; only the newest `taskHistoryLimit` are kept.
    public func appendTaskHistory(_ status: TaskStatus, host: String) async throws {
        try await appendCapped(CanonicalJSON.encode(status), under: Paths.taskHistory(status.jobID, host),
                               keep: Self.taskHistoryLimit)
    }

    /// A task's history on `host`, oldest first.
    public func taskHistory(_ id: JobID, host: String) async throws -> [TaskStatus] {
        try await readAll(TaskStatus.self, under: Paths.taskHistory(id, host))
    }

    /// Records an applied revision; only the newest `revisionHistoryLimit` are kept.
    public func appendAppliedRevision(_ revision: AppliedRevision) async throws {
        var data = CanonicalJSON.encode(revision)
        if data.count > AppliedRevision.planLimit {
            var smaller = revision
            smaller.plan = nil
            smaller.planOmitted = true
            data = CanonicalJSON.encode(smaller)
        }
        try await appendCapped(data, under: Paths.syncRevisions, keep: Self.revisionHistoryLimit)
    }

    /// The applied revisions, oldest first.
    public func appliedRevisions() async throws -> [AppliedRevision] {
        try await readAll(AppliedRevision.self, under: Paths.syncRevisions)
    }

    /// Adds a sequential child to `parent`, then trims the oldest beyond `keep`. Sequence
    /// numbers are zero-padded, so name order is age order.
    private func appendCapped(_ data: Data, under parent: String, keep: Int) async throws {
        do {
            try await session.create(parent + "/", data: data, mode: .persistentSequential)
        } catch let error as ZooKeeperError where error.code == .noNode {
            try await session.createPath(parent)
            try await session.create(parent + "/", data: data, mode: .persistentSequential)
        }
        let events = try await children(parent)
        for name in events.dropLast(keep) {
            do {
                try await session.delete(parent + "/" + name)
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue // trimmed meanwhile by another writer
            }
        }
    }

    /// Deletes the task history of every job but `jobs` (the configuration's): a removed job takes
    /// its history with it, and a history an agent wrote late for a job already gone (its task
    /// stopping) goes at the next removal. The deletes are pipelined; one that fails is tried at
    /// the next removal.
    func pruneHistory(keeping jobs: Set<JobID>) async throws {
        let orphans = try await children(Paths.historyJobs).filter { JobID($0).map { !jobs.contains($0) } ?? true }
        guard !orphans.isEmpty else { return }
        let roots = orphans.map { Paths.historyJobs + "/" + $0 }
        let hostDirectories = roots.map { $0 + "/hosts" }
        let hosts = try await concurrently(hostDirectories, window: 64) { try await self.children($0) }
        let eventDirectories = zip(hostDirectories, hosts).flatMap { directory, hosts in hosts.map { "\(directory)/\($0)/events" } }
        let events = try await concurrently(eventDirectories, window: 64) { try await self.children($0) }
        // Children before parents, each level pipelined.
        let levels = [zip(eventDirectories, events).flatMap { directory, names in names.map { "\(directory)/\($0)" } },
                      eventDirectories, eventDirectories.map { String($0.dropLast("/events".count)) }, hostDirectories, roots]
        for level in levels {
            _ = try await concurrently(level, window: 256) { path in
                do {
                    try await self.session.delete(path)
                } catch let error as ZooKeeperError where error.code == .noNode {}
            }
        }
    }

    private func readAll<T: Decodable & Sendable>(_ type: T.Type, under parent: String) async throws -> [T] {
        try await decodeAll(type, at: children(parent).map { parent + "/" + $0 }).compactMap { $0 }
    }
}
