import Foundation
import HeliosModel
import ZooKeeper

extension HeliosStore {
    /// Records the master's last sync over the record at `version` (-1: there was none). Throws
    /// `HeliosStoreError.stale` when another writer wrote it meanwhile: read again and decide again.
    public func writeSyncRecord(_ record: SyncRecord, over version: Int32) async throws {
        do {
            try await session.transaction([Self.write(record, over: version)])
        } catch let error as TransactionError where [.badVersion, .nodeExists].contains(error.underlying.code) {
            throw HeliosStoreError.stale(expected: version)
        }
    }

    /// The operation that writes `record` over the one at `version` (-1: create it).
    static func write(_ record: SyncRecord, over version: Int32) -> TransactionOperation {
        let data = CanonicalJSON.encode(record.bounded())
        return version < 0 ? .create(path: Paths.syncState, data: data, mode: .persistent)
            : .set(path: Paths.syncState, data: data, version: version)
    }

    /// The master's last sync, if it ever synced.
    public func syncRecord() async throws -> SyncRecord? {
        try await versionedSyncRecord().record
    }

    /// The master's last sync and the version of its node (-1: none yet).
    public func versionedSyncRecord() async throws -> (record: SyncRecord?, version: Int32) {
        let (record, version) = try await versioned(SyncRecord.self, at: Paths.syncState)
        return (record, version)
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

}

extension HeliosStore {
    /// Every deployment's rollout, as the leader last wrote it, by deployment name.
    public func rolloutStatuses() async throws -> [String: RolloutStatus] {
        let names = try await children(Paths.rollouts)
        let statuses = try await decodeAll(RolloutStatus.self, at: names.map { Paths.rollout($0) })
        return Dictionary(zip(names, statuses).compactMap { name, status in status.map { (name, $0) } },
                          uniquingKeysWith: { first, _ in first })
    }
}
