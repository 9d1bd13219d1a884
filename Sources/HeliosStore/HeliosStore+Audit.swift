import Foundation
import HeliosModel
import ZooKeeper

/// The audit log: a bounded list of sequential nodes under `/audit`, the oldest pruned.
extension HeliosStore {
    /// Entries kept; older ones are deleted as new ones come.
    public static let auditLimit = 1000

    /// Appends `entry`; best effort for callers (the change it records is already made).
    public func appendAudit(_ entry: AuditEntry) async throws {
        _ = try await session.create(Paths.audit + "/e-", data: CanonicalJSON.encode(entry), mode: .persistentSequential)
        let names = try await children(Paths.audit).sorted()
        for name in names.dropLast(Self.auditLimit) {
            try? await session.delete(Paths.audit + "/" + name)
        }
    }

    /// The newest `limit` entries, newest first.
    public func auditLog(limit: Int = 100) async throws -> [AuditEntry] {
        let names = try await children(Paths.audit).sorted().suffix(limit).reversed()
        var entries: [AuditEntry] = []
        for name in names {
            guard let data = try? await session.get(Paths.audit + "/" + name).data,
                  let entry = try? CanonicalJSON.decode(AuditEntry.self, from: data) else { continue }
            entries.append(entry)
        }
        return entries
    }
}
