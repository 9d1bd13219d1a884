import Foundation
import HeliosManifests
import HeliosModel

/// The manifest folder a command was given: it must exist, be a folder and hold manifests — a
/// typo that selects nothing is an error, never "0 files valid". Diagnostics name files as
/// seen from the current directory, so editors and CI annotations find them.
struct ManifestInput {
    let directory: String
    let files: [ManifestFile]
    /// The folder as seen from the current directory ("" for the current directory itself).
    let prefix: String

    init(_ directory: String) throws {
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
        files = try ManifestSource.directory(directory)
        prefix = Self.relative(directory)
        guard files.contains(where: { $0.path != ManifestLoader.settingsFile }) else {
            throw CLIError("\(directory) holds no manifest files (*.yaml or *.yml outside hidden folders)")
        }
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

    /// `diagnostic` with its file named from the current directory.
    func shown(_ diagnostic: Diagnostic) -> Diagnostic {
        var diagnostic = diagnostic
        if !prefix.isEmpty { diagnostic.file = prefix + "/" + diagnostic.file }
        return diagnostic
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
