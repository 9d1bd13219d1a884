import Foundation

/// Whether the commit a master is about to apply is signed by someone it trusts
/// (`--require-signed-commits`). SSH signatures are checked by `ssh-keygen -Y verify` against
/// an allowed signers file (git's `gpg.ssh.allowedSignersFile` format), OpenPGP signatures by
/// `gpgv` against a keyring. The trust comes from the master's flags, never from the repository:
/// a repository cannot vouch for itself. As Flux does, the branch head is what is verified.
public struct CommitVerifier: Sendable {
    public var allowedSigners: String?
    public var gpgKeyring: String?

    public init(allowedSigners: String? = nil, gpgKeyring: String? = nil) {
        self.allowedSigners = allowedSigners
        self.gpgKeyring = gpgKeyring
    }

    public enum Outcome: Sendable, Equatable {
        /// Who signed: the allowed signer's principal, or the OpenPGP key's user id and fingerprint.
        case verified(signer: String)
        /// Why the commit is not applied.
        case refused(String)
    }

    /// The verdict on a commit's signature (`nil`: unsigned) over the bytes it signs.
    public func verify(_ signature: (signature: Data, signed: Data)?) async -> Outcome {
        guard let signature else { return .refused("the commit is not signed") }
        let armor = String(decoding: signature.signature, as: UTF8.self)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("helios-verify-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            return .refused("cannot verify the signature: \(error)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let signatureFile = directory.appendingPathComponent("signature").path
        let dataFile = directory.appendingPathComponent("signed").path
        guard FileManager.default.createFile(atPath: signatureFile, contents: signature.signature),
              FileManager.default.createFile(atPath: dataFile, contents: signature.signed) else {
            return .refused("cannot verify the signature: the temporary files could not be written")
        }
        if armor.hasPrefix("-----BEGIN SSH SIGNATURE-----") {
            guard let allowedSigners else { return .refused("the commit has an SSH signature and the master has no --allowed-signers") }
            return await verifySSH(signatureFile, dataFile, allowedSigners: allowedSigners)
        }
        if armor.hasPrefix("-----BEGIN PGP SIGNATURE-----") {
            guard let gpgKeyring else { return .refused("the commit has an OpenPGP signature and the master has no --gpg-keyring") }
            return await verifyOpenPGP(signatureFile, dataFile, keyring: gpgKeyring)
        }
        return .refused("the commit's signature is of a kind Helios does not verify (SSH and OpenPGP only)")
    }

    private func verifySSH(_ signature: String, _ data: String, allowedSigners: String) async -> Outcome {
        let found = await Self.run(["ssh-keygen", "-Y", "find-principals", "-s", signature, "-f", allowedSigners])
        guard found.status == 0, let principal = found.output.split(separator: "\n").first.map(String.init) else {
            return .refused("the commit is signed with an SSH key that is not in the allowed signers")
        }
        let verified = await Self.run(["ssh-keygen", "-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git",
                                       "-s", signature], input: data)
        guard verified.status == 0 else {
            return .refused("the commit's SSH signature does not verify: \(Self.firstLine(verified.errors + verified.output))")
        }
        let key = verified.output.range(of: "SHA256:").map { String(verified.output[$0.lowerBound...].prefix { !$0.isWhitespace }) }
        return .verified(signer: principal + (key.map { " (\($0))" } ?? ""))
    }

    private func verifyOpenPGP(_ signature: String, _ data: String, keyring: String) async -> Outcome {
        let result = await Self.run(["gpgv", "--status-fd", "1", "--keyring", keyring, signature, data])
        let status = result.output.split(separator: "\n")
        guard result.status == 0, let good = status.first(where: { $0.hasPrefix("[GNUPG:] GOODSIG ") }) else {
            let known = status.contains { $0.hasPrefix("[GNUPG:] NO_PUBKEY") }
            return .refused(known ? "the commit is signed with an OpenPGP key that is not in the keyring"
                                  : "the commit's OpenPGP signature does not verify")
        }
        let user = good.split(separator: " ", maxSplits: 3).dropFirst(3).first.map(String.init) ?? "?"
        let fingerprint = status.first { $0.hasPrefix("[GNUPG:] VALIDSIG ") }?.split(separator: " ").dropFirst(2).first
        return .verified(signer: user + (fingerprint.map { " (\($0))" } ?? ""))
    }

    private static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? "(no reason given)"
    }

    /// Runs a verifying program to its end (at most 10 s), its input from a file.
    private static func run(_ arguments: [String], input: String? = nil) async -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("helios-verify-\(UUID().uuidString).out")
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("helios-verify-\(UUID().uuidString).err")
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              FileManager.default.createFile(atPath: errors.path, contents: nil),
              let outputHandle = try? FileHandle(forWritingTo: output), let errorHandle = try? FileHandle(forWritingTo: errors)
        else { return (-1, "", "cannot make temporary files") }
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        process.standardInput = input.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        let status: Int32 = await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
                return
            }
            let watchdog = process
            Task {
                try? await Task.sleep(for: .seconds(10))
                if watchdog.isRunning { watchdog.terminate() }
            }
        }
        try? outputHandle.close()
        try? errorHandle.close()
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "", (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}
