/// What an agent tells of its host (`/status/hosts/<host>/info`).
public struct HostInfo: Sendable, Equatable, Codable {
    public var hostname: String
    public var agentVersion: String
    public var dockerAPIVersion: String?

    public init(hostname: String, agentVersion: String, dockerAPIVersion: String?) {
        self.hostname = hostname
        self.agentVersion = agentVersion
        self.dockerAPIVersion = dockerAPIVersion
    }
}
