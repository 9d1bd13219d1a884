import DockerEngine
import HeliosStore
import Logging
import ServiceLifecycle

// The agent's loops, each a named service. They run in service groups (Agent.swift) that end
// the group when any one of them ends: the loops of a session are one unit, and a loop that
// stops is a session to start over, never a loop silently gone.

/// Wakes a reconcile pass on every ZooKeeper event that may change what the host runs. Watches
/// only wake a pass; the pass re-reads everything (level-triggered).
struct WatchPump: Service, CustomStringConvertible {
    let host: String
    let events: AsyncStream<StoreEvent>
    let wake: @Sendable () -> Void
    let logger: Logger
    var description: String { "watch pump" }

    func run() async throws {
        for await event in events {
            switch event {
            case .tasksChanged(host), .journalFinished, .reconnected:
                wake() // after a gap, watches may have been missed
            case .sessionExpired: logger.warning("ZooKeeper session expired; renewing it")
            default: continue
            }
        }
    }
}

/// A reconcile pass every interval, whatever the watches said.
struct ReconcileTicker: Service, CustomStringConvertible {
    let interval: Duration
    let wake: @Sendable () -> Void
    var description: String { "reconcile ticker" }

    func run() async throws {
        while true {
            try await Task.sleep(for: interval)
            wake()
        }
    }
}

/// Runs the reconcile passes the other loops ask for, one at a time; asks that come in while a
/// pass runs make one more pass.
struct ReconcileLoop: Service, CustomStringConvertible {
    let wakeups: AsyncStream<Void>
    let reconciler: Reconciler
    var description: String { "reconcile loop" }

    func run() async throws {
        for await _ in wakeups { await reconciler.reconcile() }
        try Task.checkCancellation()
    }
}

/// Follows Docker's event stream: a container that dies is started again at once, not at the
/// next pass. A stream that ends is followed again.
struct DockerEventFollower: Service, CustomStringConvertible {
    let host: String
    let docker: DockerClient
    let reconciler: Reconciler
    let logger: Logger
    var description: String { "Docker event follower" }

    func run() async throws {
        while true {
            do {
                for try await event in docker.containerEvents(labels: ["\(HostContext.hostLabel)=\(host)"])
                where ["die", "destroy", "oom"].contains(event.action) {
                    await reconciler.containerChanged(event)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("Docker event stream ended; following it again", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// Without a session (ZooKeeper away since before this agent started, or the session lost),
/// the cached tasks keep their containers running.
struct OfflineKeeping: Service, CustomStringConvertible {
    let keeper: OfflineKeeper
    let connectivity: Connectivity
    var description: String { "offline keeper" }

    func run() async throws {
        while true {
            try await Task.sleep(for: .seconds(2))
            if !connectivity.isOnline { await keeper.keep() }
        }
    }
}

extension ServiceGroupConfiguration.ServiceConfiguration {
    /// A loop of a unit: whether it returns or throws, the unit ends (its group is cancelled).
    static func endsTheGroup(_ service: any Service) -> Self {
        .init(service: service, successTerminationBehavior: .cancelGroup, failureTerminationBehavior: .cancelGroup)
    }
}
