import Foundation
import HeliosModel
import HeliosStore

/// What `/v1/events` streams, read once for every subscriber: one poller per master, started by
/// the first subscriber and stopped after the last. Each look reads the check index and the
/// sync record (two reads); the rollout statuses are read again only when the check index moved
/// (every rollout write moves it). So an open dashboard costs ZooKeeper the same whether one
/// tab or fifty follow it, and nothing per deployment while the cluster is still.
actor EventFeed {
    static let interval: Duration = .milliseconds(250)
    /// A comment sent after this long without events keeps proxies from closing the stream.
    static let heartbeat: Duration = .seconds(15)

    private let store: HeliosStore
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var poller: Task<Void, Never>?
    private var sync: Data?
    private var rollouts: [String: Data] = [:]
    private var checkIndex: Int32?
    private var sentAt = ContinuousClock.now

    init(store: HeliosStore) {
        self.store = store
    }

    /// Events as `text/event-stream` text: what is current first, then each change.
    func subscribe() -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        if poller == nil {
            // Nobody followed the cluster since the last subscriber left: what is known may be
            // stale. The first look sends everything, as it is then.
            (sync, rollouts, checkIndex) = (nil, [:], nil)
        }
        let current = (sync.map { Self.event("sync", $0) } ?? "") + rollouts.keys.sorted().map { Self.event("rollout", rollouts[$0]!) }.joined()
        if !current.isEmpty { continuation.yield(current) }
        subscribers[id] = continuation
        if poller == nil { poller = Task { await self.poll() } }
        return stream
    }

    private func unsubscribe(_ id: UUID) {
        subscribers[id] = nil
        if subscribers.isEmpty {
            poller?.cancel()
            poller = nil
        }
    }

    private func poll() async {
        while !Task.isCancelled {
            do {
                try await look()
            } catch {
                checkIndex = nil // read everything again at the next look
            }
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// One look: the events since the last, sent to every subscriber.
    private func look() async throws {
        var events = ""
        if let record = try await store.syncRecord() {
            let data = CanonicalJSON.encode(record)
            if data != sync { events += Self.event("sync", data) }
            sync = data
        }
        let index = try await store.checkIndex()
        if index != checkIndex {
            let statuses = try await store.rolloutStatuses()
            for name in statuses.keys.sorted() {
                let data = CanonicalJSON.encode(statuses[name]!)
                if rollouts[name] != data { events += Self.event("rollout", data) }
                rollouts[name] = data
            }
            for name in rollouts.keys where statuses[name] == nil { rollouts[name] = nil }
            checkIndex = index
        }
        if events.isEmpty && ContinuousClock.now - sentAt > Self.heartbeat { events = ": still here\n\n" }
        guard !events.isEmpty else { return }
        sentAt = .now
        for continuation in subscribers.values { continuation.yield(events) }
    }

    static func event(_ name: String, _ data: Data) -> String {
        "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
    }
}
