import Foundation
import HeliosModel

/// A host's secrets directory (`--secrets-dir`): one file per secret, named as jobs reference it
/// (`env: {DB_PASS: {secret: db-password}}`), owned by the agent's user and readable by it alone.
/// Values are read when a container is created and go only to the Docker engine on this host.
struct HostSecrets: Sendable {
    /// Larger files are refused: a secret is a password, a token or a key, not a payload.
    static let maximumSize = 64 * 1024

    let directory: String?

    /// The env values of `references` (env name → secret name), or why one cannot be had —
    /// a reason that names the secret, never its value.
    func resolve(_ references: [String: String]) -> Result<[String: String], Refusal> {
        var values: [String: String] = [:]
        for (variable, name) in references.sorted(by: { $0.key < $1.key }) {
            switch read(name) {
            case .success(let value): values[variable] = value
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(values)
    }

    struct Refusal: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    private func read(_ name: String) -> Result<String, Refusal> {
        guard let directory else {
            return .failure(Refusal(description: "secret \(name): this host has no secrets directory (the agent's --secrets-dir)"))
        }
        guard Names.isValid(name) else { return .failure(Refusal(description: "invalid secret name '\(Printable.escape(name))'")) }
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .failure(Refusal(description: "secret \(name) is not in \(directory) on this host"))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(Refusal(description: "secret \(name) in \(directory) is not a regular file"))
        }
        guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            return .failure(Refusal(description: "secret \(name) in \(directory) must belong to the agent's user and be "
                + "readable by it alone (chmod 600): it is not used"))
        }
        guard info.st_size <= Self.maximumSize, let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else {
            return .failure(Refusal(description: "secret \(name) in \(directory) is not UTF-8 text of at most 64 KiB"))
        }
        // `echo value > file` adds a newline nobody meant as part of the secret.
        return .success(text.hasSuffix("\n") ? String(text.dropLast()) : text)
    }
}
