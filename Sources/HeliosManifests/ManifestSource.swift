import Foundation
import Git

/// Where manifests come from: a directory (a working tree) or a git commit.
/// Both give the same files for the same content.
public enum ManifestSource {
    /// Every manifest under `directory`, skipping hidden files and folders (`.git`) and, as
    /// from a commit, symbolic links.
    public static func directory(_ directory: String) throws -> [ManifestFile] {
        try walk(directory).files
    }

    /// The manifests under `directory`, and the manifest-named symbolic links left out.
    public static func walk(_ directory: String) throws -> (files: [ManifestFile], symlinks: [String]) {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey], options: [.skipsHiddenFiles])
        else { return ([], []) }
        var files: [ManifestFile] = []
        var symlinks: [String] = []
        for case let url as URL in walker {
            let path = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            let kind = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            guard ManifestFile.isManifest(path) else { continue }
            if kind.isSymbolicLink == true {
                symlinks.append(path)
            } else if kind.isRegularFile == true {
                files.append(ManifestFile(path: path, content: try Data(contentsOf: url)))
            }
        }
        return (files.sorted { $0.path < $1.path }, symlinks.sorted())
    }

    /// Every manifest in `commit`'s tree, read from the object database without a checkout.
    /// With `subpath`, only the files below it, with paths relative to it.
    public static func commit(_ commit: ObjectID, in repository: GitRepository, subpath: String = "") throws -> [ManifestFile] {
        let manifests = try repository.files(at: commit).compactMap { file in
            manifestPath(file.path, below: subpath).map { (path: $0, blob: file.blob) }
        }
        return zip(manifests, try repository.blobs(manifests.map(\.blob))).map { ManifestFile(path: $0.path, content: $1) }
    }

    /// The manifests that differ between two commits: the changed and added ones read, the
    /// removed ones by path. Paths as `commit` gives them.
    public static func changes(from old: ObjectID, to new: ObjectID, in repository: GitRepository,
                               subpath: String = "") throws -> ManifestChanges {
        var changes = ManifestChanges()
        for change in try repository.changes(from: old, to: new) {
            guard let path = manifestPath(change.path, below: subpath) else { continue }
            if let blob = change.new {
                changes.changed.append(ManifestFile(path: path, content: try repository.blob(blob)))
            } else {
                changes.removed.append(path)
            }
        }
        return changes
    }

    /// A repository path relative to `subpath`, when it is a manifest below it outside hidden folders.
    static func manifestPath(_ path: String, below subpath: String) -> String? {
        let prefix = subpath.isEmpty || subpath.hasSuffix("/") ? subpath : subpath + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let relative = String(path.dropFirst(prefix.count))
        guard ManifestFile.isManifest(relative), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") })
        else { return nil }
        return relative
    }
}

/// What a commit changed among the manifests.
public struct ManifestChanges: Sendable, Equatable {
    /// Added or changed files, with their new content.
    public var changed: [ManifestFile] = []
    /// Paths of removed files.
    public var removed: [String] = []

    public init(changed: [ManifestFile] = [], removed: [String] = []) {
        self.changed = changed
        self.removed = removed
    }
}
