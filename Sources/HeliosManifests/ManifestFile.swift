import Foundation

/// One manifest file: its path from the repository root and its bytes.
public struct ManifestFile: Sendable, Equatable {
    public var path: String
    public var content: Data

    public init(path: String, content: Data) {
        self.path = path
        self.content = content
    }

    /// Whether a repository path is a manifest: `*.yaml` or `*.yml`.
    public static func isManifest(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }
}
