import HeliosAgentCommand
import Foundation
import Git
import HeliosManifests
import HeliosModel

/// The manifest folder a command was given: it must exist, be a folder and hold manifests — a
/// typo that selects nothing is an error, never "0 files valid". Diagnostics name files as
/// seen from the current directory, so editors and CI annotations find them.
///
/// In a git work tree it holds what the master would read once this is committed: the files
/// git tracks (with their changes in the work tree), not untracked or ignored ones unless
/// asked; symbolic links never (a commit gives their target's path, not a manifest).
struct ManifestInput {
    let directory: String
    let files: [ManifestFile]
    /// The folder as seen from the current directory ("" for the current directory itself).
    let prefix: String
    /// What was left out and why, for the warnings.
    let notes: [String]
    /// Which files: `tracked files`, `tracked and untracked files`, or nil outside git.
    let selection: String?
    /// The git work tree the folder is in; nil outside one.
    let workTree: WorkTree?

    struct WorkTree {
        let repository: GitRepository
        /// The work tree's root, standardized.
        let root: String
        /// The folder's path from the root ("" for the root itself).
        let subpath: String

        init?(containing directory: String) {
            guard let repository = try? GitRepository.discover(from: directory), let root = repository.workTree else { return nil }
            self.repository = repository
            self.root = URL(fileURLWithPath: root).standardizedFileURL.path
            let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
            subpath = absolute == self.root ? "" : String(absolute.dropFirst(self.root.count + 1))
        }
    }

    init(_ directory: String, includeUntracked: Bool = false) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CLIError("\(directory): no such directory", hint: "give the folder that holds the manifests (default: the current one)")
        }
        guard isDirectory.boolValue else {
            let folder = URL(fileURLWithPath: directory).deletingLastPathComponent().relativePath
            throw CLIError("\(directory) is a file: Helios reads a folder of manifests as a whole",
                           hint: "give its folder, e.g. \(folder.isEmpty ? "." : folder)")
        }
        self.directory = directory
        prefix = Self.relative(directory)
        let (found, symlinks) = try ManifestSource.walk(directory)
        var notes: [String] = []
        if !symlinks.isEmpty {
            notes.append("left out: \(Output.count(symlinks.count, "symbolic link")) to manifests (\(Self.list(symlinks))): "
                + "from a commit the master reads a link's target path, not a manifest")
        }
        var files = found
        workTree = WorkTree(containing: directory)
        if let workTree, let tracked = try? workTree.repository.trackedPaths() {
            let below = workTree.subpath.isEmpty ? "" : workTree.subpath + "/"
            let untracked = found.filter { !tracked.contains(below + $0.path) }.map(\.path)
            if !untracked.isEmpty && !includeUntracked {
                files = found.filter { tracked.contains(below + $0.path) }
                notes.append("left out, as the master will not see them: \(Output.count(untracked.count, "untracked or ignored manifest")) "
                    + "(\(Self.list(untracked))); `git add` them, or pass --untracked to plan with them")
            }
            selection = includeUntracked && !untracked.isEmpty ? "tracked and untracked files" : "tracked files"
        } else {
            selection = nil
        }
        self.files = files
        self.notes = notes
        // A helios.yaml alone is a repository whose manifests were all deleted: planned (maxPrune guards it).
        guard files.isEmpty else { return }
        if !found.isEmpty {
            throw CLIError("\(directory) holds no manifest file git tracks", hint: "`git add` them, or pass --untracked")
        }
        throw CLIError("\(directory) holds no manifest files (*.yaml or *.yml outside hidden folders)")
    }

    /// Loads the manifests; the diagnostics (warnings, and errors when they do not load) named
    /// from the current directory.
    func load(now: Date = Date()) -> (desired: DesiredState?, diagnostics: [Diagnostic]) {
        let (result, warnings) = ManifestLoader.check(files, now: now)
        switch result {
        case .success(let desired): return (desired, warnings.map(shown))
        case .failure(let error): return (nil, (error.diagnostics + warnings).sorted().map(shown))
        }
    }

    /// `diagnostic` with its file named from the current directory (also a position it points
    /// to in its message: "first at deployments/all.yaml:11:1").
    func shown(_ diagnostic: Diagnostic) -> Diagnostic {
        var diagnostic = diagnostic
        guard !prefix.isEmpty else { return diagnostic }
        diagnostic.file = prefix + "/" + diagnostic.file
        for file in files where diagnostic.message.contains(" at \(file.path):") {
            diagnostic.message = diagnostic.message.replacingOccurrences(of: " at \(file.path):", with: " at \(prefix)/\(file.path):")
        }
        return diagnostic
    }

    /// Where the token a diagnostic points at ends on its line (1-based, exclusive): the value
    /// or key, up to the next space or YAML punctuation. Nil when the file is not one read here.
    func endColumn(of diagnostic: Diagnostic) -> Int? {
        let path = prefix.isEmpty ? diagnostic.file : String(diagnostic.file.dropFirst(prefix.count + 1))
        guard let file = files.first(where: { $0.path == path }) else { return nil }
        let lines = String(decoding: file.content, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard diagnostic.line >= 1, diagnostic.line <= lines.count else { return nil }
        let rest = lines[diagnostic.line - 1].dropFirst(diagnostic.column - 1)
        var length = 0
        if let quote = rest.first, quote == "\"" || quote == "'" {
            length = (rest.dropFirst().firstIndex(of: quote).map { rest.distance(from: rest.startIndex, to: $0) + 1 }) ?? rest.count
        } else {
            length = rest.prefix { !" ,]}#\t".contains($0) && $0 != ":" }.count
        }
        return diagnostic.column + max(1, length)
    }

    private static func list(_ paths: [String]) -> String {
        paths.count <= 5 ? paths.joined(separator: ", ") : paths.prefix(5).joined(separator: ", ") + ", …"
    }

    /// `path` relative to the current directory when it is below it, else absolute.
    static func relative(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        if absolute == current { return "" }
        let base = current.hasSuffix("/") ? current : current + "/"
        return absolute.hasPrefix(base) ? String(absolute.dropFirst(base.count)) : absolute
    }
}
