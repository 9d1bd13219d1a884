import Foundation
import Git

/// Where manifests come from: a directory (a working tree) or a git commit.
/// Both give the same files for the same content.
public enum ManifestSource {
    /// Every manifest under `directory`, skipping hidden files and folders (`.git`).
    public static func directory(_ directory: String) throws -> [ManifestFile] {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var files: [ManifestFile] = []
        for case let url as URL in walker {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            guard ManifestFile.isManifest(path) else { continue }
            files.append(ManifestFile(path: path, content: try Data(contentsOf: url)))
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Every manifest in `commit`'s tree, read from the object database without a checkout,
    /// each with its blob id as identity. With `subpath`, only the files below it, with paths
    /// relative to it. Blobs `cache` already parsed are not read (their content stays empty).
    public static func commit(_ commit: ObjectID, in repository: GitRepository, subpath: String = "",
                              cache: ManifestCache? = nil) throws -> [ManifestFile] {
        let prefix = subpath.isEmpty || subpath.hasSuffix("/") ? subpath : subpath + "/"
        return try repository.files(at: commit)
            .filter { $0.path.hasPrefix(prefix) }
            .map { (file: $0, path: String($0.path.dropFirst(prefix.count))) }
            .filter { ManifestFile.isManifest($0.path) && !$0.path.split(separator: "/").contains { $0.hasPrefix(".") } }
            .map { entry in
                let identity = entry.file.blob.hex
                let cached = cache?.contains(path: entry.path, identity: identity) ?? false
                return ManifestFile(path: entry.path, content: cached ? Data() : try repository.blob(entry.file.blob),
                                    identity: identity)
            }
    }
}
