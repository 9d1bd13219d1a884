import Foundation

/// Credentials for one registry, as `X-Registry-Auth` carries them.
public struct RegistryCredentials: Sendable, Equatable, Encodable {
    /// How docker config files name Docker Hub.
    public static let dockerHub = "https://index.docker.io/v1/"

    public var username: String?
    public var password: String?
    /// An OAuth identity token, used instead of a password.
    public var identityToken: String?
    public var serverAddress: String

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil, serverAddress: String) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.serverAddress = serverAddress
    }

    /// The header value: the JSON credentials in URL-safe base64.
    var header: String {
        let json = (try? JSONEncoder().encode(self)) ?? Data()
        return json.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    enum CodingKeys: String, CodingKey {
        case username, password, identityToken = "identitytoken", serverAddress = "serveraddress"
    }
}

/// The `auths` of a docker config file (`~/.docker/config.json`): the registry credentials
/// `docker login` stored. Credential helpers (`credsStore`, `credHelpers`) are not run.
public struct DockerConfig: Sendable, Equatable {
    /// Registry (as the file keys it) → credentials.
    public let credentials: [String: RegistryCredentials]

    public init(credentials: [String: RegistryCredentials] = [:]) {
        self.credentials = credentials
    }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public static var defaultPath: String {
        if let directory = ProcessInfo.processInfo.environment["DOCKER_CONFIG"] { return directory + "/config.json" }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker/config.json").path
    }

    /// Reads a config file; a missing file holds no credentials, an unreadable one is an error.
    public static func load(from path: String) throws -> DockerConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return DockerConfig() }
        struct File: Decodable {
            struct Entry: Decodable {
                let auth: String?
                let username: String?
                let password: String?
                let identitytoken: String?
            }
            let auths: [String: Entry]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw DockerConfigError(path: path, reason: "not a docker config file: \(error)")
        }
        var credentials: [String: RegistryCredentials] = [:]
        for (registry, entry) in file.auths ?? [:] {
            var username = entry.username
            var password = entry.password
            // `auth` is base64 of `user:password`, what `docker login` writes.
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw DockerConfigError(path: path, reason: "the auth of \(registry) is not base64 of user:password")
                }
                username = String(decoded[..<colon])
                password = String(decoded[decoded.index(after: colon)...])
            }
            credentials[registry] = RegistryCredentials(username: username, password: password,
                                                        identityToken: entry.identitytoken, serverAddress: registry)
        }
        return DockerConfig(credentials: credentials)
    }

    /// The credentials for the registry `image` is pulled from, if the file has any.
    public func credentials(for image: String) -> RegistryCredentials? {
        let registry = ImageReference.registry(of: image)
        if let exact = credentials[registry] { return exact }
        // Files written by older clients key registries as URLs: `https://registry:5000/v1/`.
        return credentials.first { key, _ in
            URL(string: key).flatMap { url in url.host.map { host in url.port.map { "\(host):\($0)" } ?? host } } == registry
        }?.value
    }
}

public struct DockerConfigError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
