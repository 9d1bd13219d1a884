/// The master's account of its last sync (`/sync/state`).
public struct SyncRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case synced = "SYNCED"
        case outOfSync = "OUT_OF_SYNC"
        case failed = "FAILED"
        case progressing = "PROGRESSING"
    }

    public var repo: String
    public var branch: String
    /// The revision last applied.
    public var revision: String?
    /// The revision last tried, applied or not.
    public var lastAttempt: String?
    public var status: Status
    /// When the last applied revision was applied (ISO 8601).
    public var appliedAt: String?
    public var summary: String
    /// The manifest diagnostics of a failed revision, `file:line:column: error: …`.
    public var diagnostics: [String]

    public init(repo: String, branch: String, revision: String?, lastAttempt: String?, status: Status,
                appliedAt: String?, summary: String, diagnostics: [String] = []) {
        self.repo = repo
        self.branch = branch
        self.revision = revision
        self.lastAttempt = lastAttempt
        self.status = status
        self.appliedAt = appliedAt
        self.summary = summary
        self.diagnostics = diagnostics
    }
}
