import HeliosModel

/// The ZooKeeper tree of DESIGN.md §4, relative to the chroot.
enum Paths {
    static let configVersion = "/config/version"
    static let jobs = "/config/jobs"
    static let deployments = "/config/deployments"
    static let configHosts = "/config/hosts"
    static let statusHosts = "/status/hosts"
    static let sync = "/sync"
    static let syncState = "/sync/state"
    /// Set by any master that was asked to sync (`POST /v1/sync`); the leader watches it.
    static let syncRequest = "/sync/request"
    /// Plans too large for one transaction, on their way in (see HeliosStore+Journal).
    static let journal = "/config/journal"

    /// The structural nodes every Helios cluster has.
    static let historyJobs = "/history/jobs"
    static let syncRevisions = "/sync/revisions"

    static let election = "/masters/election"
    /// Who changed what: sequential entries, the oldest pruned (HeliosStore+Audit).
    static let audit = "/audit"

    static let rollouts = "/status/deployments"
    static func rollout(_ deployment: String) -> String { "\(rollouts)/\(deployment)" }

    static let tree = [jobs, deployments, configHosts, journal, statusHosts, rollouts, historyJobs,
                       syncRevisions, election, audit]

    static func taskHistory(_ id: JobID, _ host: String) -> String { "\(historyJobs)/\(id)/hosts/\(host)/events" }

    static func journalEntry(_ entry: String) -> String { "\(journal)/\(entry)" }
    static func journalChunkName(_ index: Int) -> String { "chunk-\(String(format: "%06d", index))" }
    static func journalChunk(_ entry: String, _ index: Int) -> String { "\(journalEntry(entry))/\(journalChunkName(index))" }
    static let journalCommittedName = "committed"
    static func journalCommitted(_ entry: String) -> String { "\(journalEntry(entry))/\(journalCommittedName)" }

    static func job(_ id: JobID) -> String { "\(jobs)/\(id)" }
    static func jobHosts(_ id: JobID) -> String { "\(job(id))/hosts" }
    static func jobHost(_ id: JobID, _ host: String) -> String { "\(jobHosts(id))/\(host)" }
    static func deployment(_ name: String) -> String { "\(deployments)/\(name)" }
    static func configHost(_ host: String) -> String { "\(configHosts)/\(host)" }
    static func hostTasks(_ host: String) -> String { "\(configHost(host))/jobs" }
    static func hostTask(_ host: String, _ id: JobID) -> String { "\(hostTasks(host))/\(id)" }
    static func statusHost(_ host: String) -> String { "\(statusHosts)/\(host)" }
    static func hostUp(_ host: String) -> String { "\(statusHost(host))/up" }
    static func hostInfo(_ host: String) -> String { "\(statusHost(host))/info" }
    static func hostLabels(_ host: String) -> String { "\(statusHost(host))/labels" }
    static func taskStatuses(_ host: String) -> String { "\(statusHost(host))/jobs" }
    static func taskStatus(_ host: String, _ id: JobID) -> String { "\(taskStatuses(host))/\(id)" }
}
