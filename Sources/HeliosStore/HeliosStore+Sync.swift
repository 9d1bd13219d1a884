import Foundation
import HeliosModel
import ZooKeeper

extension HeliosStore {
    /// Records the master's last sync.
    public func writeSyncRecord(_ record: SyncRecord) async throws {
        try await put(Paths.syncState, CanonicalJSON.encode(record))
    }

    /// The master's last sync, if it ever synced.
    public func syncRecord() async throws -> SyncRecord? {
        try await decode(SyncRecord.self, at: Paths.syncState)
    }
}

extension HeliosStore {
    /// Asks the leading master to sync now (a webhook may reach any master).
    public func requestSync() async throws {
        try await put(Paths.syncRequest, Data(Date().formatted(.iso8601).utf8))
    }

    /// Arms a watch on the sync request: the next `requestSync` fires it.
    public func watchSyncRequests() async throws {
        _ = try await session.exists(Paths.syncRequest, watch: true)
    }

    /// Whether a watch event is a sync request.
    public static func isSyncRequest(_ event: WatchEvent) -> Bool {
        event.path == Paths.syncRequest
    }
}

extension HeliosStore {
    /// Every deployment's rollout, as the rollout controller last wrote it, by name.
    public func rolloutStatuses() async throws -> [RolloutStatus] {
        let names = try await children(Paths.rollouts)
        return try await decodeAll(RolloutStatus.self, at: names.map { Paths.rollout($0) }).compactMap { $0 }
    }
}
