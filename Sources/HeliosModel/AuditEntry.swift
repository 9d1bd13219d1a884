import Foundation

/// One change to the cluster and who made it, as `GET /v1/audit` and `helios audit` show it.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var at: Date
    /// Who: `commit 1a2b3c4 by Ada <ada@example.com>`, `token ci`, `webhook (GitHub signature)`.
    public var actor: String
    /// What: `applied revision`, `apply`, `sync requested`.
    public var action: String
    /// The plan's summary, the revision, …
    public var detail: String

    public init(at: Date = Date(), actor: String, action: String, detail: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}
