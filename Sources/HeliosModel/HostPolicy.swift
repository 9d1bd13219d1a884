/// What a host lets a job do: an agent refuses a task that asks for more (FAILED, with the
/// reason), and `policy:` in helios.yaml applies the same rules when manifests are validated,
/// so a pull request shows the refusal before anything reaches a host. Default: nothing beyond
/// Docker's own defaults — no host directories, no added capabilities, no privileged-equivalent
/// options, no host or container network modes.
public struct HostPolicy: Sendable, Equatable, Codable {
    /// Host directories a job may mount, with what is below them. `/etc`, `/proc`, `/sys` and
    /// the Docker socket only when named exactly (or below them); `/` itself never through a
    /// root above it.
    public var volumeRoots: [String]
    /// Capabilities a job may add (without `CAP_`).
    public var capabilities: Set<String>
    /// `SYS_ADMIN`, `ALL`, `seccomp=unconfined`, `apparmor=unconfined`, `systempaths=unconfined`:
    /// as good as `--privileged`.
    public var allowPrivileged: Bool
    /// Network modes beyond bridge and none: `host`, `container`.
    public var networkModes: Set<String>

    public init(volumeRoots: [String] = [], capabilities: Set<String> = [], allowPrivileged: Bool = false,
                networkModes: Set<String> = []) {
        self.volumeRoots = volumeRoots.map(Self.normalised)
        self.capabilities = Set(capabilities.map(Self.capability))
        self.allowPrivileged = allowPrivileged
        self.networkModes = networkModes
    }

    /// Paths no root above them opens: they are the host itself.
    static let guarded = ["/etc", "/proc", "/sys", "/var/run/docker.sock", "/run/docker.sock", "/dev", "/boot", "/root"]
    static let privilegedCapabilities: Set<String> = ["SYS_ADMIN", "ALL"]
    static let privilegedOptions = ["seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", "apparmor:unconfined",
                                    "systempaths=unconfined", "systempaths:unconfined"]

    /// Why `job` breaks the policy; empty when it does not.
    public func violations(of job: Job) -> [String] {
        var reasons: [String] = []
        for volume in job.volumes ?? [] {
            let parts = volume.split(separator: ":").map(String.init)
            guard parts.count >= 2 else { continue } // an anonymous volume holds nothing of the host
            let source = Self.normalised(parts[0])
            if !allowsMount(source) {
                reasons.append("volume \(volume): the host path \(source) is not under an allowed volume root"
                    + (volumeRoots.isEmpty ? " (the host allows none)" : " (\(volumeRoots.joined(separator: ", ")))"))
            }
        }
        for raw in job.addCapabilities ?? [] {
            let capability = Self.capability(raw)
            if Self.privilegedCapabilities.contains(capability) {
                if !allowPrivileged { reasons.append("capability \(capability) is as good as privileged, which the host does not allow") }
            } else if !capabilities.contains(capability) {
                reasons.append("capability \(capability) is not one the host allows"
                    + (capabilities.isEmpty ? " (it allows none)" : " (\(capabilities.sorted().joined(separator: ", ")))"))
            }
        }
        for option in job.securityOpt ?? [] where Self.privilegedOptions.contains(option) && !allowPrivileged {
            reasons.append("securityOpt \(option) is as good as privileged, which the host does not allow")
        }
        if let mode = job.networkMode {
            let kind = mode.hasPrefix("container:") ? "container" : mode
            if ["host", "container"].contains(kind) && !networkModes.contains(kind) {
                reasons.append("networkMode \(mode) is not allowed on the host")
            }
        }
        return reasons
    }

    func allowsMount(_ source: String) -> Bool {
        volumeRoots.contains { root in
            guard Self.isWithin(source, root) else { return false }
            if source == "/" { return root == "/" }
            // A guarded path opens only through a root at it or below it.
            if let guardedPath = Self.guarded.first(where: { Self.isWithin(source, $0) }) { return Self.isWithin(root, guardedPath) }
            return true
        }
    }

    static func isWithin(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." && !part.isEmpty {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func capability(_ name: String) -> String {
        let upper = name.uppercased()
        return upper.hasPrefix("CAP_") ? String(upper.dropFirst(4)) : upper
    }
}
