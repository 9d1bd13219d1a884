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
