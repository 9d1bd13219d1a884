import DockerEngine
import Foundation
import HeliosModel
import Logging
import Synchronization

/// The host's tasks as last read from ZooKeeper, kept in the state directory (`tasks.json`):
/// an agent that starts while ZooKeeper is away still knows which containers to keep running.
struct TaskCache: Sendable {
    let file: URL

    init(stateDirectory: String) {
        file = URL(fileURLWithPath: stateDirectory).appendingPathComponent("tasks.json")
    }

    func save(_ tasks: [JobID: HostTask]) throws {
        try CanonicalJSON.encode(tasks.values.sorted { $0.jobID < $1.jobID }).write(to: file, options: .atomic)
    }

    /// The cached tasks; nil when there are none (or the file is unreadable).
    func load() -> [JobID: HostTask]? {
        guard let data = try? Data(contentsOf: file),
              let tasks = try? CanonicalJSON.decode([HostTask].self, from: data) else { return nil }
        return Dictionary(tasks.map { ($0.jobID, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// While the agent has no ZooKeeper session (it could not connect, or lost it), its cached
/// tasks still hold: a container of a task to run that has stopped is started again. Nothing
/// else is touched — no container is created or removed without ZooKeeper — and statuses are
/// written by the next pass once ZooKeeper is back.
struct OfflineKeeper {
    let host: String
    let docker: DockerClient
    let cache: TaskCache
    let logger: Logger

    func keep() async {
        guard let tasks = cache.load() else { return }
        do {
            let containers = try await docker.listContainers(all: true, labels: ["\(HostContext.hostLabel)=\(host)"])
            let byJob = Dictionary(grouping: containers) { $0.labels[HostContext.jobLabel] ?? "" }
            for task in tasks.values where task.goal == .start {
                let own = byJob[task.jobID.description] ?? []
                guard !own.contains(where: { $0.state == .running }),
                      let stopped = own.first(where: { $0.state == .exited || $0.state == .created }) else { continue }
                try await docker.startContainer(stopped.id)
                logger.warning("ZooKeeper unreachable: started a stopped container of a cached task",
                               metadata: ["job.id": "\(task.jobID)", "container.id": "\(stopped.id)"])
            }
        } catch {
            logger.warning("keeping containers without ZooKeeper failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Whether the agent has a registered ZooKeeper session now.
final class Connectivity: Sendable {
    private let online = Atomic(false)
    func set(_ value: Bool) { online.store(value, ordering: .relaxed) }
    var isOnline: Bool { online.load(ordering: .relaxed) }
}
