import ZooKeeper

/// A store operation that could not be done.
public enum HeliosStoreError: Error, Sendable, CustomStringConvertible {
    /// The configuration changed since it was read: re-read, re-plan, retry.
    case stale(expected: Int32)
    /// The plan carries errors (e.g. it would prune more than `maxPrune`): never applied.
    case refused([String])
    /// A node holds something that is not what Helios wrote there.
    case corrupt(path: String, reason: String)
    /// Another agent, alive, is registered under this host name.
    case hostTaken(host: String, agentID: String)
    /// This master's election node is gone (its session expired): it leads no more.
    case lostCandidacy
    /// A committed plan is being replayed from the journal: the tasks read now could be half of it.
    case journalInProgress(entry: String)
    /// A chunk of a committed plan failed for a reason other than having been applied before:
    /// the rest was applied and the journal finished; the next plan corrects what it left.
    case replayFailed(entry: String, chunk: Int, path: String, cause: String)
    /// ZooKeeper's ACLs keep this process out (it has no credentials, or not the ones needed).
    case accessDenied(String)
    /// The tree is open to everyone while this process has credentials.
    case openTree(String)

    public var description: String {
        switch self {
        case .stale(let expected):
            "the cluster configuration changed since it was read (check index \(expected)); re-read and plan again"
        case .refused(let errors):
            "the plan is refused: " + errors.joined(separator: "; ")
        case .corrupt(let path, let reason):
            "unreadable ZooKeeper node \(path): \(reason)"
        case .hostTaken(let host, let agentID):
            "another agent (id \(agentID)) is registered as host '\(host)' and alive; "
                + "this one waits until that agent's session ends"
        case .lostCandidacy:
            "this master's place in the leader election is gone (its ZooKeeper session expired)"
        case .journalInProgress(let entry):
            "a plan is being written (journal \(entry)); read again once it is finished"
        case .replayFailed(let entry, let chunk, let path, let cause):
            "chunk \(chunk) of the plan in journal \(entry) failed at \(path): \(cause); the rest of the plan "
                + "was applied, and the next plan corrects what this one left"
        case .accessDenied(let reason):
            reason
        case .openTree(let chroot):
            "the ZooKeeper tree \(chroot) is open to everyone; secure it once with `helios zk secure` "
                + "(docs/security.md), then start the cluster with its credentials"
        }
    }
}

extension HeliosStore {
    /// Whether `error` means ZooKeeper could not be reached or refused the request (the API
    /// answers 503), as opposed to a Helios decision.
    public static func isUnavailable(_ error: any Error) -> Bool {
        error is ZooKeeperError || error is TransactionError
    }
}
