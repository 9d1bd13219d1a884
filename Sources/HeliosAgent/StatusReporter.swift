import Foundation
import HeliosModel
import HeliosStore
import Logging
import ServiceLifecycle

/// Writes what the host's tasks do to ZooKeeper: each task's status and every change of it
/// to its history. A write that fails (ZooKeeper away) is kept and sent by a later `flush`,
/// so statuses and the history of an outage reach ZooKeeper once it is back.
actor StatusReporter: Service {
    /// History entries kept per task while ZooKeeper is away; older ones are dropped.
    static let pendingHistoryLimit = HeliosStore.taskHistoryLimit

    let host: String
    let store: HeliosStore
    let logger: Logger
    /// The latest status of each task; nil once the task is gone.
    private var current: [JobID: TaskStatus] = [:]
    /// What ZooKeeper holds, as far as this agent knows.
    private var written: [JobID: TaskStatus] = [:]
    private var history: [JobID: [TaskStatus]] = [:]
    /// Tasks whose status must be removed from ZooKeeper.
    private var gone: Set<JobID> = []
    private var flushing: Set<JobID> = []
    /// Tasks whose new status waits for the reporter's loop (`run`) to send it.
    private var unsent: Set<JobID> = []
    private let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    init(host: String, store: HeliosStore, logger: Logger) {
        self.host = host
        self.store = store
        self.logger = logger
    }

    /// Learns the statuses ZooKeeper holds (left by an earlier run of the agent), so that
    /// those of tasks that went meanwhile are removed, and the last state each history recorded,
    /// so that an adopted task's unchanged state is not recorded twice while one whose history
    /// missed it (the agent stopped between the two writes) is.
    func load() async throws {
        let statuses = try await store.taskStatuses(host: host)
        for (id, status) in statuses where written[id] == nil {
            written[id] = status
            if current[id] == nil, let last = try await store.taskHistory(id, host: host).last { current[id] = last }
        }
    }

    /// The task's status changed (or not: the same status twice is written once). The write
    /// goes out from the reporter's loop: a slow ZooKeeper never holds up a container.
    func report(_ status: TaskStatus) {
        guard current[status.jobID] != status else { return }
        var status = status
        status.at = status.at ?? Date()
        current[status.jobID] = status
        gone.remove(status.jobID)
        history[status.jobID, default: []].append(status)
        history[status.jobID] = history[status.jobID]?.suffix(Self.pendingHistoryLimit)
        unsent.insert(status.jobID)
        wake.yield()
    }

    /// Sends the statuses reported, each task's writes in parallel with the others', until the
    /// session ends (a pass's `flush` sends what failed before).
    func run() async throws {
        for await _ in wakeups {
            let ids = unsent
            unsent = []
            await withTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { await self.flush(id) } }
            }
        }
        try Task.checkCancellation()
    }

    /// The task is gone from this host: its status goes too.
    func remove(_ id: JobID) async {
        current[id] = nil
        history[id] = nil
        guard written[id] != nil || flushing.contains(id) else { return }
        gone.insert(id)
        await flush(id)
    }

    /// Every task `ids` does not name is gone.
    func keepOnly(_ ids: Set<JobID>) async {
        for id in Set(current.keys).union(written.keys) where !ids.contains(id) { await remove(id) }
    }

    /// The status reported last.
    func status(_ id: JobID) -> TaskStatus? { current[id] }

    /// Sends whatever earlier writes could not.
    func flush() async {
        for id in Set(history.keys).union(gone) { await flush(id) }
    }

    private func flush(_ id: JobID) async {
        // One writer per task at a time; it loops until nothing is left, so nothing is written twice.
        guard flushing.insert(id).inserted else { return }
        defer { flushing.remove(id) }
        do {
            while true {
                if gone.contains(id) {
                    try await store.removeTaskStatus(id, host: host)
                    written[id] = nil
                    gone.remove(id)
                    continue
                }
                guard let status = current[id], let next = history[id]?.first else { return }
                if written[id] != status {
                    try await store.setTaskStatus(status, host: host)
                    written[id] = status
                }
                try await store.appendTaskHistory(next, host: host)
                history[id]?.removeFirst()
                if history[id]?.isEmpty == true { history[id] = nil }
            }
        } catch {
            logger.warning("writing task status failed; it is sent again later",
                           metadata: ["job.id": "\(id)", "error": "\(error)"])
        }
    }
}
