import Foundation
import HeliosModel
import ZooKeeper

/// One applied revision (`/sync/revisions/<seq>`): what a rollback returns to.
public struct AppliedRevision: Sendable, Equatable, Codable {
    public var revision: String
    public var appliedAt: String
    public var summary: String

    public init(revision: String, appliedAt: String, summary: String) {
        self.revision = revision
        self.appliedAt = appliedAt
        self.summary = summary
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
        try await appendCapped(CanonicalJSON.encode(revision), under: Paths.syncRevisions, keep: Self.revisionHistoryLimit)
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

    private func readAll<T: Decodable & Sendable>(_ type: T.Type, under parent: String) async throws -> [T] {
        try await decodeAll(type, at: children(parent).map { parent + "/" + $0 }).compactMap { $0 }
    }
}
