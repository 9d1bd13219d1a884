import HeliosAgentCommand
import ArgumentParser
import Foundation
import HeliosModel
import HTTPTransport
import URLTransport

/// `--master URL` (default `$HELIOS_MASTER`): where the online commands reach the cluster.
struct MasterOptions: ParsableArguments {
    @Option(help: "The master's API, host:port or a URL, e.g. 127.0.0.1:5801 (default: $HELIOS_MASTER).")
    var master: String?

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "text (a table) or json (the master's JSON as it is).")
    var format: Format = .text

    @Flag(help: "The same as --format json.")
    var json = false

    @OptionGroup var credentials: MasterCredentials

    /// Whether to print the master's JSON rather than a table.
    var printsJSON: Bool { json || format == .json }

    func client() throws -> MasterClient {
        guard let url = master ?? Self.environmentMaster else {
            throw CLIError("this command talks to a master", hint: "give it with --master HOST:PORT or HELIOS_MASTER")
        }
        return try credentials.client(url)
    }

    /// `HELIOS_MASTER`, when set and not empty.
    static var environmentMaster: String? {
        ProcessInfo.processInfo.environment["HELIOS_MASTER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `host:port` (as the master's `--http` takes it) or a URL, as the base URL of the API.
    static func url(_ text: String) -> String {
        let url = text.contains("://") ? text : "http://" + text
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

/// `--token-file` and `--ca-file`: what a command that talks to a master shows it, and checks
/// it against (every such command takes the same two options).
struct MasterCredentials: ParsableArguments {
    @Option(help: "A file holding the API token (default: $HELIOS_TOKEN, or the file $HELIOS_TOKEN_FILE names).")
    var tokenFile: String?

    @Option(help: "With an https master: the CA certificates (PEM) its certificate must chain to (default: $HELIOS_CA_FILE, else the system's).")
    var caFile: String?

    /// The API of the master at `master` (host:port or a URL), with the token.
    func client(_ master: String) throws -> MasterClient {
        MasterClient(base: MasterOptions.url(master), token: try MasterClient.token(file: tokenFile), caFile: try MasterClient.caFile(caFile))
    }
}

/// The master's HTTP API, for the CLI.
struct MasterClient {
    let base: String
    /// Sent as `Authorization: Bearer …`: `HELIOS_TOKEN`, else the file `HELIOS_TOKEN_FILE` names.
    var token: String? = MasterClient.environmentToken
    private let transport: URLTransport

    init(base: String, token: String? = MasterClient.environmentToken, caFile: String? = nil) {
        self.base = base
        self.token = token
        transport = URLTransport(base: base, caFile: caFile)
    }

    /// `--ca-file FILE`, else `HELIOS_CA_FILE`; it must be readable.
    static func caFile(_ flag: String?) throws -> String? {
        guard let file = flag ?? ProcessInfo.processInfo.environment["HELIOS_CA_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard FileManager.default.isReadableFile(atPath: file) else { throw CLIError("--ca-file: cannot read \(file)") }
        return file
    }

    static var environmentToken: String? {
        let environment = ProcessInfo.processInfo.environment
        if let token = environment["HELIOS_TOKEN"], !token.isEmpty { return token }
        if let file = environment["HELIOS_TOKEN_FILE"], !file.isEmpty { return try? readToken(file) }
        return nil
    }

    /// The token of `--token-file FILE`, else of the environment.
    static func token(file: String?) throws -> String? {
        try file.map(readToken) ?? environmentToken
    }

    /// A token file's first line.
    static func readToken(_ file: String) throws -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("--token-file: cannot read \(file)") }
        return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// A failed call: the master's `{"error": …}` message, or why it could not be reached.
    struct Failure: Error, CustomStringConvertible {
        let status: Int
        let message: String
        var description: String { status == 0 ? message : "the master refused (\(status)): \(message)" }
    }

    func get(_ path: String) async throws -> Data {
        try await send("GET", path, body: nil)
    }

    func post(_ path: String, _ body: some Encodable) async throws -> Data {
        try await send("POST", path, body: try JSONEncoder().encode(body))
    }

    /// Decodes a reply the master wrote with `CanonicalJSON` (its dates and durations included).
    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try CanonicalJSON.decode(type, from: data)
        } catch {
            throw Failure(status: 0, message: "unreadable reply from \(base): \(error)")
        }
    }

    private func send(_ method: String, _ path: String, body: Data?) async throws -> Data {
        let response: HTTPTransport.Response
        do {
            response = try await transport.send(.init(method: method, path: path, body: body,
                                                      headers: token.map { ["Authorization: Bearer " + $0] } ?? [],
                                                      timeout: .seconds(30)))
        } catch let failure as HTTPTransport.Failure {
            throw Failure(status: 0, message: "cannot reach the master at \(base): \(failure.message)")
        }
        let (status, data) = (response.status, response.body)
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))
                .map { [$0["error"], $0["diagnostics"]].compactMap { $0 }.joined(separator: "\n") }
                ?? String(decoding: data, as: UTF8.self)
            throw Failure(status: status, message: message)
        }
        return data
    }
}
