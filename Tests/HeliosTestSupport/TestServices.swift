import Foundation
import Synchronization

/// The real services tests talk to, as `make test` exports them.
///
/// Locally a test whose service is missing is skipped (`.enabled(if:)`); under `CI=true`
/// it runs and fails, so a missing service can never pass as green.
public enum TestServices {
    /// True under CI, where every service must be present.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// `host:port` of the ZooKeeper server (`HELIOS_TEST_ZK`).
    public static var zooKeeper: String? { ProcessInfo.processInfo.environment["HELIOS_TEST_ZK"] }

    /// The Docker engine's unix socket: `DOCKER_HOST=unix://…`, else /var/run/docker.sock.
    public static var dockerSocket: String? {
        if let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            return String(host.dropFirst("unix://".count))
        }
        let standard = "/var/run/docker.sock"
        return FileManager.default.fileExists(atPath: standard) ? standard : nil
    }

    /// The image tests run, built by `make test-images` with `docker import`.
    public static var image: String {
        ProcessInfo.processInfo.environment["HELIOS_TEST_IMAGE"] ?? "helios/busybox:latest"
    }

    /// `host:port` of the password-protected image registry on loopback (`HELIOS_TEST_REGISTRY`).
    public static var registry: String? { ProcessInfo.processInfo.environment["HELIOS_TEST_REGISTRY"] }

    /// Whether tests needing the registry (and Docker) run: always under CI, else when it is configured.
    public static var registryEnabled: Bool { isCI || (registry != nil && dockerSocket != nil) }

    /// Whether tests needing ZooKeeper run: always under CI, else when it is configured.
    public static var zooKeeperEnabled: Bool { isCI || zooKeeper != nil }

    /// Whether tests needing Docker run: always under CI, else when a socket is there.
    public static var dockerEnabled: Bool { isCI || dockerSocket != nil }

    /// The ZooKeeper address, or an error that fails the test.
    public static func requireZooKeeper() throws -> String {
        guard let zooKeeper else { throw MissingService(name: "ZooKeeper (HELIOS_TEST_ZK)") }
        return zooKeeper
    }

    /// The Docker socket, or an error that fails the test.
    public static func requireDocker() throws -> String {
        guard let dockerSocket else { throw MissingService(name: "Docker (DOCKER_HOST)") }
        return dockerSocket
    }

    /// The registry and its `user:password`, or an error that fails the test.
    public static func requireRegistry() throws -> (address: String, user: String, password: String) {
        guard let registry, let auth = ProcessInfo.processInfo.environment["HELIOS_TEST_REGISTRY_AUTH"],
              let colon = auth.firstIndex(of: ":") else {
            throw MissingService(name: "the image registry (HELIOS_TEST_REGISTRY)")
        }
        return (registry, String(auth[..<colon]), String(auth[auth.index(after: colon)...]))
    }

    /// 100 host ports no other agent of this test run publishes on (ranges cycle through 20000–32699).
    public static func portRange() -> ClosedRange<Int> {
        let slot = portSlots.add(1, ordering: .relaxed).oldValue % 127
        return (20_000 + slot * 100)...(20_000 + slot * 100 + 99)
    }

    private static let portSlots = Atomic<Int>(0)

    /// A chroot no other test uses, so tests never see each other's nodes.
    public static func uniqueChroot(_ label: String = "test") -> String {
        "/helios-test-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// A service a test needs is not there. Run the tests with `make test`.
public struct MissingService: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "\(name) is not available: run the tests with `make test`" }
}
