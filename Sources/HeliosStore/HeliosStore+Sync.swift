import Foundation
import HeliosModel
import ZooKeeper

extension HeliosStore {
    /// Records the master's last sync.
    public func writeSyncRecord(_ record: SyncRecord) async throws {
        let data = CanonicalJSON.encode(record)
        do {
            try await session.set(Paths.syncState, data: data)
        } catch let error as ZooKeeperError where error.code == .noNode {
            try await session.create(Paths.syncState, data: data)
        }
    }

    /// The master's last sync, if it ever synced.
    public func syncRecord() async throws -> SyncRecord? {
        try await decode(SyncRecord.self, at: Paths.syncState)
    }
}
