import HeliosAgentCommand
import ArgumentParser
import Foundation
import Git
import HeliosMaster
import Logging
import ServiceLifecycle

struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run a master: sync the manifest repository into ZooKeeper and serve the HTTP API.")

    @OptionGroup var options: DaemonOptions

    @Option(help: "The manifest repository (URL or path). Without it the cluster is CLI-driven.")
    var repo: String?

    @Option(help: "The branch to follow.")
    var branch = "main"

    @Option(help: "The repository folder holding the manifests (default: all of it).")
    var path = ""

    @Option(help: "The user to sign in to an https remote with (its password or token from --git-password-file or $HELIOS_GIT_PASSWORD).")
    var gitUsername: String?

    @Option(help: "A file holding the https remote's password or token.")
    var gitPasswordFile: String?

    @Option(help: "A private key file to sign in to an ssh remote with (user from the URL, else git).")
    var gitSSHKey: String?

    /// Credentials from the flags; secrets come from files or the environment, never from the command line.
    func gitCredentials() throws -> GitCredentials? {
        if let key = gitSSHKey {
            guard FileManager.default.isReadableFile(atPath: key) else { throw CLIError("--git-ssh-key: cannot read \(key)") }
            return .sshKey(user: gitUsername ?? "git", privateKey: key, publicKey: nil,
                           passphrase: ProcessInfo.processInfo.environment["HELIOS_GIT_SSH_PASSPHRASE"])
        }
        guard let user = gitUsername else { return nil }
        let password: String
        if let file = gitPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("--git-password-file: cannot read \(file)")
            }
            password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let environment = ProcessInfo.processInfo.environment["HELIOS_GIT_PASSWORD"] {
            password = environment
        } else {
            throw CLIError("--git-username needs --git-password-file FILE or HELIOS_GIT_PASSWORD")
        }
        return .userPassword(user: user, password: password)
    }

    @Option(help: "How often to poll the repository, e.g. 1s, 5s.")
    var poll = DurationArgument(argument: "5s")!

    @Option(help: "Where to keep the master's mirror of the repository.")
    var stateDir = "/var/lib/helios/master"

    @Option(help: "The HTTP API's address, host:port (loopback by default).")
    var http = "127.0.0.1:5801"

    @Option(help: "How long one fetch of the repository may take before it counts as failed, e.g. 60s.")
    var gitTimeout = DurationArgument(argument: "60s")!

    @Option(help: "The ZooKeeper session timeout: a master that dies leads no more after it, e.g. 10s.")
    var sessionTimeout = DurationArgument(argument: "10s")!

    @Option(help: "The API's tokens: lines of NAME SCOPES sha256:HASH (`helios token create` appends them). Without it the API serves loopback only.")
    var apiTokens: String?

    @Flag(help: "Let GET requests in without a token.")
    var anonymousRead = false

    @Flag(help: "Let /metrics in without a token.")
    var openMetrics = false

    @Option(help: "A Host name (host or host:port) clients reach this master by, besides its --http address; repeatable.")
    var apiHost: [String] = []

    @Option(help: "A file holding the webhook secret: POST /v1/sync then takes GitHub's X-Hub-Signature-256 or GitLab's X-Gitlab-Token.")
    var webhookSecretFile: String?

    @Flag(help: "Apply only branch heads signed by a key of --allowed-signers (SSH) or --gpg-keyring (OpenPGP).")
    var requireSignedCommits = false

    @Option(help: "The SSH keys that may sign commits, in git's allowed signers format (principal key-type key).")
    var allowedSigners: String?

    @Option(help: "An OpenPGP keyring (gpg --export > FILE) of the keys that may sign commits, checked with gpgv.")
    var gpgKeyring: String?

    @Option(help: "The dashboard links a manifest error's file:line to this repository browser URL, with {revision}, {file} and {line}, e.g. https://git.example.com/ops/manifests/blob/{revision}/{file}#L{line}.")
    var repoBrowseURL: String?

    @Option(help: "The API's certificate chain (PEM): with --tls-key, the API serves HTTPS only.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) of --tls-cert.")
    var tlsKey: String?

    /// TLS for the API from the flags: both files, or neither.
    func tls() throws -> TLSFiles? {
        switch (tlsCert, tlsKey) {
        case (nil, nil): return nil
        case (let certificate?, let key?):
            for file in [certificate, key] where !FileManager.default.isReadableFile(atPath: file) {
                throw CLIError("cannot read \(file)")
            }
            return TLSFiles(certificateChain: certificate, privateKey: key)
        default: throw CLIError("--tls-cert and --tls-key go together")
        }
    }

    /// The commit verifier from the flags: the trust comes from them, never from the repository.
    func commitVerifier() throws -> CommitVerifier? {
        for file in [allowedSigners, gpgKeyring].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw CLIError("cannot read \(file)")
        }
        guard requireSignedCommits else {
            if allowedSigners != nil || gpgKeyring != nil {
                throw CLIError("--allowed-signers and --gpg-keyring take effect with --require-signed-commits")
            }
            return nil
        }
        guard allowedSigners != nil || gpgKeyring != nil else {
            throw CLIError("--require-signed-commits needs the keys: --allowed-signers FILE and/or --gpg-keyring FILE")
        }
        return CommitVerifier(allowedSigners: allowedSigners, gpgKeyring: gpgKeyring)
    }

    /// The access policy from the flags: tokens from their file, the Host names served.
    func accessPolicy(host: String, port: Int, logger: Logger) throws -> APIAccessPolicy {
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"]
        var policy = APIAccessPolicy(anonymousRead: anonymousRead, openMetrics: openMetrics)
        if let file = apiTokens {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("--api-tokens: cannot read \(file)") }
            do {
                policy.tokens = try APITokens.parse(text, file: file)
            } catch {
                throw CLIError("--api-tokens: \(error)")
            }
            logger.info("API tokens loaded", metadata: ["tokens": "\(policy.tokens!.tokens.count)"])
        } else {
            guard loopback.contains(host) else {
                throw CLIError("without --api-tokens the API serves loopback only, not \(host)",
                               hint: "create a token with `helios token create NAME --scopes deploy --file FILE` and pass --api-tokens FILE")
            }
            logger.warning("no --api-tokens: the API serves \(host) only and asks no token")
        }
        if let file = webhookSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw CLIError("--webhook-secret-file: cannot read \(file), or it is empty")
            }
            policy.webhookSecret = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        }
        var names = loopback + apiHost
        if !["0.0.0.0", "::"].contains(host) { names.append(host) } else { names.append(ProcessInfo.processInfo.hostName) }
        policy.hosts = Set(names.flatMap { name in
            name.contains(":") && !name.hasPrefix("[") && name.filter({ $0 == ":" }).count == 1 ? [name.lowercased()] : ["\(name.lowercased()):\(port)"]
        })
        return policy
    }

    func run() async throws {
        let logger = options.bootstrapLogging(label: "helios.master")
        let address = http.split(separator: ":")
        guard address.count == 2, let port = Int(address[1]) else {
            throw CLIError("--http takes host:port, e.g. 127.0.0.1:5801")
        }
        let access = try accessPolicy(host: String(address[0]), port: port, logger: logger)
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        var configuration = MasterConfiguration(
            zooKeeper: try options.zooKeeperServers(), chroot: options.chroot, repository: repo, branch: branch, subpath: path,
            gitCredentials: try gitCredentials(),
            pollInterval: poll.duration, fetchTimeout: gitTimeout.duration, mirrorPath: stateDir + "/mirror.git",
            httpHost: String(address[0]), httpPort: port, sessionTimeout: sessionTimeout.duration)
        configuration.access = access
        configuration.zooKeeperSecurity = try options.zooKeeperSecurity()
        configuration.commitVerifier = try commitVerifier()
        configuration.tls = try tls()
        configuration.repoBrowseURL = repoBrowseURL
        let master = Master(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [master], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
