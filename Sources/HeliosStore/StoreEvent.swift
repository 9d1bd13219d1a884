import ZooKeeper

/// What happened, in Helios' words: the watches the store armed firing, and the session coming
/// and going. Agents and masters follow these; they never see ZooKeeper's own events.
public enum StoreEvent: Sendable, Equatable {
    /// The tasks assigned to `host` changed (the watch `tasks(of:watch: true)` armed).
    case tasksChanged(host: String)
    /// A master asked the leader to sync (`requestSync`; the watch `watchSyncRequests` armed).
    case syncRequested
    /// A host registered, went UP or DOWN, or changed its labels (the watches `readCluster` arms).
    case hostsChanged
    /// A plan replayed from the journal is finished (the watch `tasks(of:watch: true)` arms while one is).
    case journalFinished
    /// The session expired: ephemeral nodes (an agent's `up`, a master's candidacy) are gone
    /// until the session is renewed.
    case sessionExpired
    /// Connected again, or the session renewed: watches may have fired unseen meanwhile.
    case reconnected
}

extension HeliosStore {
    /// The store's events from now on, until the consumer stops reading.
    public func events() -> AsyncStream<StoreEvent> {
        let watches = session.watchEvents()
        let states = session.stateChanges()
        return AsyncStream { continuation in
            // Owned by the stream: it ends when the consumer stops reading.
            let pump = Task {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await event in watches { if let event = Self.event(for: event) { continuation.yield(event) } }
                    }
                    group.addTask {
                        for await state in states {
                            switch state {
                            case .expired: continuation.yield(.sessionExpired)
                            case .connected, .renewed: continuation.yield(.reconnected)
                            default: continue
                            }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in pump.cancel() }
        }
    }

    /// The store event a watch event is, if any.
    static func event(for event: WatchEvent) -> StoreEvent? {
        let path = event.path
        if path == Paths.syncRequest { return .syncRequested }
        if path.hasPrefix(Paths.journal + "/") { return .journalFinished }
        if path.hasPrefix(Paths.configHosts + "/") {
            let rest = path.dropFirst(Paths.configHosts.count + 1)
            let host = String(rest.prefix { $0 != "/" })
            if rest.dropFirst(host.count).hasPrefix("/jobs") { return .tasksChanged(host: host) }
        }
        if path == Paths.statusHosts
            || path.hasPrefix(Paths.statusHosts + "/") && (path.hasSuffix("/up") || path.hasSuffix("/labels")) {
            return .hostsChanged
        }
        return nil
    }
}
