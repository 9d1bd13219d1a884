import Foundation
@testable import HeliosMaster
import HeliosModel
import HeliosStore
import HeliosTestSupport
import Testing

/// `--require-signed-commits` with keys made here: SSH signatures (ssh-keygen) and OpenPGP
/// ones (gpg, checked with gpgv). An unsigned or wrongly signed head is not applied and the
/// sync record says why; the next properly signed commit is applied, and the audit log names
/// its signer.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct SignedCommitTests {
    static let deployment = "kind: Deployment\nname: web\njob: web\nhosts: [a]\n"
    static func job(_ version: Int) -> [String: String?] {
        ["web.yaml": "kind: Job\nname: web\nversion: '\(version)'\nimage: busybox\n---\n" + deployment]
    }

    /// An ed25519 SSH key pair in `directory`; returns the private key's path and the public key line.
    func sshKey(_ directory: TemporaryDirectory, _ name: String) throws -> (path: String, publicKey: String) {
        let path = directory.path + "/" + name
        try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path])
        return (path, try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func commitSigned(_ fixture: GitSyncTests.Fixture, _ files: [String: String?], with key: String, message: String) throws -> String {
        try fixture.git.git("config", "gpg.format", "ssh")
        try fixture.git.git("config", "user.signingkey", key + ".pub")
        try fixture.git.git("config", "commit.gpgsign", "true")
        defer { _ = try? fixture.git.git("config", "commit.gpgsign", "false") }
        return try fixture.git.commit(files, message: message)
    }

    @Test func onlyHeadsSignedByAnAllowedSSHKeyAreApplied() async throws {
        let keys = try TemporaryDirectory("ssh-keys")
        defer { keys.remove() }
        let trusted = try sshKey(keys, "release")
        let stranger = try sshKey(keys, "stranger")
        try "release@example.com namespaces=\"git\" \(trusted.publicKey)\n".write(toFile: keys.path + "/allowed_signers",
                                                                                    atomically: true, encoding: .utf8)
        let fixture = try await GitSyncTests.Fixture(verifier: CommitVerifier(allowedSigners: keys.path + "/allowed_signers"))

        let unsigned = try fixture.git.commit(Self.job(1), message: "unsigned")
        let first = try #require(try await fixture.sync.sync())
        #expect(first.reason == .unverifiedCommit && first.lastAttemptedRevision == unsigned && first.lastAppliedRevision == nil)
        #expect(first.summary.contains("not signed"), "\(first.summary)")
        #expect(try await fixture.store.readCluster().config.jobs.isEmpty, "an unsigned commit applied nothing")

        let foreign = try commitSigned(fixture, Self.job(2), with: stranger.path, message: "signed by a stranger")
        let second = try #require(try await fixture.sync.sync())
        #expect(second.reason == .unverifiedCommit && second.lastAttemptedRevision == foreign)
        #expect(second.summary.contains("not in the allowed signers"), "\(second.summary)")
        #expect(try await fixture.store.readCluster().config.jobs.isEmpty)

        let good = try commitSigned(fixture, Self.job(3), with: trusted.path, message: "signed release")
        let third = try #require(try await fixture.sync.sync())
        #expect(third.lastAppliedRevision == good, "\(third.summary)")
        #expect(try await fixture.store.readCluster().config.jobs.keys.map(\.version) == ["3"])
        let audit = try await fixture.store.auditLog()
        #expect(audit.contains { $0.actor.contains("signed by release@example.com (SHA256:") }, "\(audit)")
        await fixture.close()
    }

    @Test func onlyHeadsSignedByAKeyOfTheOpenPGPKeyringAreApplied() async throws {
        let home = try TemporaryDirectory("gnupg")
        defer { home.remove() }
        let environment = ["GNUPGHOME": home.path]
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path)
        func key(_ user: String) throws -> String {
            try run(["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", user, "ed25519", "sign", "never"],
                    environment: environment)
            let listing = try run(["gpg", "--batch", "--with-colons", "--list-keys", user], environment: environment)
            return try #require(listing.split(separator: "\n").first { $0.hasPrefix("fpr:") }?.split(separator: ":").last.map(String.init))
        }
        let trusted = try key("Release <release@example.com>")
        let stranger = try key("Stranger <stranger@example.com>")
        try run(["sh", "-c", "gpg --batch --export \(trusted) > \(home.path)/trusted.gpg"], environment: environment)
        let fixture = try await GitSyncTests.Fixture(verifier: CommitVerifier(gpgKeyring: home.path + "/trusted.gpg"))
        func commit(_ files: [String: String?], signer: String) throws -> String {
            for path in files.keys { try Data((files[path]!!).utf8).write(to: URL(fileURLWithPath: fixture.git.workTree + "/" + path)) }
            try run(["git", "add", "-A"], in: fixture.git.workTree)
            try run(["git", "-c", "gpg.format=openpgp", "commit", "-q", "-S\(signer)", "-m", "signed"], in: fixture.git.workTree,
                    environment: environment)
            try run(["git", "push", "-q", "origin", "HEAD"], in: fixture.git.workTree)
            return try fixture.git.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        let foreign = try commit(Self.job(1), signer: stranger)
        let refused = try #require(try await fixture.sync.sync())
        #expect(refused.reason == .unverifiedCommit && refused.lastAttemptedRevision == foreign)
        #expect(refused.summary.contains("not in the keyring"), "\(refused.summary)")

        let good = try commit(Self.job(2), signer: trusted)
        let applied = try #require(try await fixture.sync.sync())
        #expect(applied.lastAppliedRevision == good, "\(applied.summary)")
        #expect(try await fixture.store.auditLog().contains { $0.actor.contains("signed by Release <release@example.com> (\(trusted))") })
        await fixture.close()
    }
}
