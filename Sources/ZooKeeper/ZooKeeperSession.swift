internal import CZooKeeper
import Foundation
import Synchronization

/// A session with a ZooKeeper ensemble, over the C client `libzookeeper_mt`.
///
/// Every operation is asynchronous: the C client sends the request from its I/O thread
/// and runs the completion on its completion thread, which resumes the awaiting task.
/// Nothing here blocks a cooperative thread except `close()`, which runs on a thread of
/// its own because `zookeeper_close` blocks.
///
/// Watches are armed per call (`watch: true`) and delivered as `WatchEvent`s to every
/// stream returned by `watchEvents()`; session state changes go to `stateChanges()`.
public final class ZooKeeperSession: Sendable {
    let handle: Handle
    let core: SessionCore

    /// The `zhandle_t`; the C client is thread-safe, so the pointer may cross threads.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private init(handle: Handle, core: SessionCore) {
        self.handle = handle
        self.core = core
    }

    /// Opens a session and waits until it is connected.
    ///
    /// - Parameters:
    ///   - servers: `host:port[,host:port…]`.
    ///   - chroot: a path every operation is relative to, e.g. `/helios`; created when missing.
    ///   - sessionTimeout: how long the server keeps the session (and its ephemeral nodes)
    ///     after the client goes silent.
    ///   - connectTimeout: how long to wait for the first connection.
    public static func connect(
        servers: String,
        chroot: String? = nil,
        sessionTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(15)
    ) async throws -> ZooKeeperSession {
        if let chroot, chroot != "/" {
            // The C client does not create the chroot node; create it from the root first.
            let root = try await connect(servers: servers, chroot: nil,
                                         sessionTimeout: sessionTimeout, connectTimeout: connectTimeout)
            do {
                try await root.createPath(chroot)
                await root.close()
            } catch {
                await root.close()
                throw error
            }
        }
        ZooKeeperLogging.configureOnce()
        let core = SessionCore()
        let context = Unmanaged.passRetained(core).toOpaque()
        let connectString = servers + (chroot.map { $0 == "/" ? "" : $0 } ?? "")
        let timeoutMilliseconds = Int32(sessionTimeout.components.seconds * 1000
            + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        guard let pointer = zookeeper_init(connectString, sessionWatcher, timeoutMilliseconds, nil, context, 0)
        else {
            Unmanaged<SessionCore>.fromOpaque(context).release()
            throw ZooKeeperError(code: .badArguments, operation: "connect", path: servers)
        }
        let session = ZooKeeperSession(handle: Handle(pointer: pointer), core: core)
        do {
            try await core.waitUntilConnected(timeout: connectTimeout)
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    /// The session state now.
    public var state: SessionState { core.currentState }

    /// The session id ZooKeeper assigned (0 before the first connection).
    public var sessionID: Int64 {
        guard let id = zoo_client_id(handle.pointer) else { return 0 }
        return id.pointee.client_id
    }

    /// A stream of every state change from now on. Each call returns a new stream.
    public func stateChanges() -> AsyncStream<SessionState> {
        core.subscribeStates()
    }

    /// A stream of every watch that fires from now on. Each call returns a new stream.
    public func watchEvents() -> AsyncStream<WatchEvent> {
        core.subscribeEvents()
    }

    /// Closes the session: its ephemeral nodes go at once. Safe to call twice.
    public func close() async {
        guard core.markClosing() else { return }
        let handle = self.handle
        let core = self.core
        // zookeeper_close blocks until the I/O and completion threads stop: give it a thread.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                zookeeper_close(handle.pointer)
                core.finish()
                continuation.resume()
            }
            thread.name = "zookeeper-close"
            thread.start()
        }
    }
}

/// State shared with the C watcher: it is the `context` of `zookeeper_init`, retained once
/// and released after `zookeeper_close` returns, when no callback can run any more.
final class SessionCore: Sendable {
    private struct State {
        var sessionState: SessionState = .connecting
        var closing = false
        var connectWaiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
        var stateSubscribers: [UUID: AsyncStream<SessionState>.Continuation] = [:]
        var eventSubscribers: [UUID: AsyncStream<WatchEvent>.Continuation] = [:]
    }

    private let state = Mutex(State())

    var currentState: SessionState { state.withLock { $0.sessionState } }

    func markClosing() -> Bool {
        state.withLock { state in
            if state.closing { return false }
            state.closing = true
            return true
        }
    }

    /// Called from the C watcher thread: must not block.
    func sessionStateChanged(_ newState: SessionState) {
        let (waiters, subscribers) = state.withLock { state in
            state.sessionState = newState
            var waiters: [CheckedContinuation<Void, any Error>] = []
            if newState == .connected || newState == .expired || newState == .authFailed {
                waiters = Array(state.connectWaiters.values)
                state.connectWaiters.removeAll()
            }
            return (waiters, Array(state.stateSubscribers.values))
        }
        for waiter in waiters {
            switch newState {
            case .connected: waiter.resume()
            case .authFailed: waiter.resume(throwing: ZooKeeperError(code: .authFailed, operation: "connect"))
            default: waiter.resume(throwing: ZooKeeperError(code: .sessionExpired, operation: "connect"))
            }
        }
        for subscriber in subscribers { subscriber.yield(newState) }
    }

    /// Called from the C watcher thread: must not block.
    func watchFired(_ event: WatchEvent) {
        let subscribers = state.withLock { Array($0.eventSubscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    func waitUntilConnected(timeout: Duration) async throws {
        let id = UUID()
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.failConnectWaiter(id)
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let alreadyConnected = state.withLock { state in
                if state.sessionState == .connected { return true }
                state.connectWaiters[id] = continuation
                return false
            }
            if alreadyConnected { continuation.resume() }
        }
    }

    private func failConnectWaiter(_ id: UUID) {
        let waiter = state.withLock { $0.connectWaiters.removeValue(forKey: id) }
        waiter?.resume(throwing: ZooKeeperError(code: .operationTimeout, operation: "connect"))
    }

    func subscribeStates() -> AsyncStream<SessionState> {
        subscribe(\.stateSubscribers)
    }

    func subscribeEvents() -> AsyncStream<WatchEvent> {
        subscribe(\.eventSubscribers)
    }

    private func subscribe<Element: Sendable>(
        _ subscribers: WritableKeyPath<State, [UUID: AsyncStream<Element>.Continuation]> & Sendable
    ) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
        let id = UUID()
        let closed = state.withLock { state in
            if state.closing { return true }
            state[keyPath: subscribers][id] = continuation
            return false
        }
        if closed { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0[keyPath: subscribers].removeValue(forKey: id) }
        }
        return stream
    }

    /// After `zookeeper_close` returned: end the streams and release the C context.
    func finish() {
        let (states, events, waiters) = state.withLock { state in
            state.sessionState = .closed
            defer {
                state.stateSubscribers.removeAll()
                state.eventSubscribers.removeAll()
                state.connectWaiters.removeAll()
            }
            return (Array(state.stateSubscribers.values),
                    Array(state.eventSubscribers.values), Array(state.connectWaiters.values))
        }
        for waiter in waiters { waiter.resume(throwing: ZooKeeperError(code: .closing, operation: "connect")) }
        for subscriber in states {
            subscriber.yield(.closed)
            subscriber.finish()
        }
        for subscriber in events { subscriber.finish() }
        // Balances the passRetained of connect(): the C client holds the context no more.
        Unmanaged.passUnretained(self).release()
    }
}

/// The global watcher of every session: session events and the watches armed with `watch: true`.
private let sessionWatcher: watcher_fn = { _, type, state, path, context in
    guard let context else { return }
    let core = Unmanaged<SessionCore>.fromOpaque(context).takeUnretainedValue()
    if type == ZOO_SESSION_EVENT {
        if state == ZOO_CONNECTED_STATE {
            core.sessionStateChanged(.connected)
        } else if state == ZOO_EXPIRED_SESSION_STATE {
            core.sessionStateChanged(.expired)
        } else if state == ZOO_AUTH_FAILED_STATE {
            core.sessionStateChanged(.authFailed)
        } else if state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE {
            core.sessionStateChanged(.connecting)
        }
        return
    }
    let nodePath = path.map { String(cString: $0) } ?? ""
    let kind: WatchEvent.Kind
    if type == ZOO_CREATED_EVENT {
        kind = .created
    } else if type == ZOO_DELETED_EVENT {
        kind = .deleted
    } else if type == ZOO_CHANGED_EVENT {
        kind = .dataChanged
    } else if type == ZOO_CHILD_EVENT {
        kind = .childrenChanged
    } else {
        return
    }
    core.watchFired(WatchEvent(kind: kind, path: nodePath))
}

/// The C client logs to stderr at INFO by default; keep only its warnings.
enum ZooKeeperLogging {
    private static let configured = Mutex(false)

    static func configureOnce() {
        configured.withLock { done in
            guard !done else { return }
            done = true
            zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR)
        }
    }
}
