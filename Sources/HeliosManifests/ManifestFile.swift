import Foundation

/// One manifest file: its path from the repository root and its bytes.
public struct ManifestFile: Sendable, Equatable {
    public var path: String
    public var content: Data
    /// What identifies the content (a git blob id), for `ManifestCache`; nil: not cached.
    public var identity: String?

    public init(path: String, content: Data, identity: String? = nil) {
        self.path = path
        self.content = content
        self.identity = identity
    }

    /// Equal paths and contents; the identity is bookkeeping.
    public static func == (lhs: ManifestFile, rhs: ManifestFile) -> Bool {
        lhs.path == rhs.path && lhs.content == rhs.content
    }

    /// Whether a repository path is a manifest: `*.yaml` or `*.yml`.
    public static func isManifest(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }
}
