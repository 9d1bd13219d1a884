/// `helios.yaml`: how the master syncs the repository. Every field is optional.
public struct SyncSettings: Sendable, Equatable, Codable {
    /// Where manifests live; empty: the whole tree.
    public var paths: [String]
    /// Delete what git no longer declares.
    public var prune: Bool
    public var maxPrune: PruneLimit
    /// Revert changes not made from git at the next sync.
    public var selfHeal: Bool
    /// Milliseconds between the leader's looks at the repository; nil: the master's `--poll`.
    public var pollInterval: Int64?
    /// The host policy manifests are validated against (`policy:`), so a pull request shows what
    /// an agent would refuse; the agents' own policy still decides.
    public var policy: HostPolicy?

    public init(paths: [String] = [], prune: Bool = true, maxPrune: PruneLimit = .percent(50),
                selfHeal: Bool = true, pollInterval: Int64? = nil) {
        self.paths = paths
        self.prune = prune
        self.maxPrune = maxPrune
        self.selfHeal = selfHeal
        self.pollInterval = pollInterval
    }
}

/// How many deployments one sync may delete: a count, or a share of those that exist.
public enum PruneLimit: Sendable, Equatable, Codable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// The most deployments that may go when `existing` exist. A share always allows one:
    /// removing the only deployment of a small cluster is a deliberate act, not an accident.
    public func allowed(of existing: Int) -> Int {
        switch self {
        case .count(let count): count
        case .percent(let percent): max(percent > 0 ? 1 : 0, existing * percent / 100)
        }
    }

    public var description: String {
        switch self {
        case .count(let count): "\(count)"
        case .percent(let percent): "\(percent)%"
        }
    }
}
