import Foundation

/// A real git remote for tests: a bare repository and a work tree that pushes to it
/// with the git command line, as a developer would.
public struct GitFixture: Sendable {
    public let directory: TemporaryDirectory
    /// The bare repository: what the master fetches from.
    public var remote: String { directory.path + "/remote.git" }
    /// The developer's clone.
    public var workTree: String { directory.path + "/work" }

    public init(branch: String = "main") throws {
        directory = try TemporaryDirectory("git")
        try run(["git", "init", "-q", "--bare", "-b", branch, remote])
        try run(["git", "init", "-q", "-b", branch, workTree])
        try git("remote", "add", "origin", remote)
        try git("config", "user.name", "Helios Test")
        try git("config", "user.email", "test@helios.invalid")
    }

    /// Runs git in the work tree.
    @discardableResult
    public func git(_ arguments: String...) throws -> String {
        try run(["git"] + arguments, in: workTree)
    }

    /// Writes files into the work tree (nil deletes), commits them all and pushes.
    /// Returns the new commit's id.
    @discardableResult
    public func commit(_ files: [String: String?], message: String = "change") throws -> String {
        for (path, content) in files {
            let url = URL(fileURLWithPath: workTree).appendingPathComponent(path)
            if let content {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            } else {
                try FileManager.default.removeItem(at: url)
            }
        }
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        try git("push", "-q", "origin", "HEAD")
        return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func remove() { directory.remove() }
}
