internal import CZooKeeper
import Foundation
import Logging

/// A session with a ZooKeeper ensemble, over the C client `libzookeeper_mt`.
///
/// Every operation is asynchronous: the C client sends the request from its I/O thread
/// and runs the completion on its completion thread, which resumes the awaiting task.
/// Nothing here blocks a cooperative thread except `close()`, which runs on a thread of
/// its own because `zookeeper_close` blocks.
///
/// Watches are armed per call (`watch: true`) and delivered as `WatchEvent`s to every
/// stream returned by `watchEvents()`; session state changes go to `stateChanges()`.
///
/// When the server expires the session, a new one replaces it, as Curator does: the ephemeral
/// nodes made with `createEphemeral(_:data:)` are created again, the watches armed before are
/// armed again and fire once (whatever changed meanwhile was missed), and `stateChanges()`
/// says `.expired`, then `.renewed`. Calls made meanwhile fail with `sessionExpired`.
public final class ZooKeeperSession: Sendable {
    private let current: Locked<Handle>
    let core: SessionCore
    private let connectString: String
    private let timeoutMilliseconds: Int32
    private let connectTimeout: Duration
    /// The loop that renews the session when it expires: the session's own, ended by `close()`.
    private let renewal = Locked<Task<Void, Never>?>(nil)
    /// What the session proves on every connection and how the nodes it creates are protected.
    let access: ZooKeeperAccess
    private let counted = Locked(RequestCounts())

    /// How many reads and writes this session sent so far (renewals included): for metrics and benchmarks.
    public var requests: RequestCounts { counted.withLock { $0 } }

    func count(reads: Int = 0, writes: Int = 0) {
        counted.withLock {
            $0.reads += reads
            $0.writes += writes
        }
    }

    /// The `zhandle_t` of the session now, and the context its watcher was given.
    struct Handle: @unchecked Sendable {
        // @unchecked: the C client is thread-safe, so the pointer may cross threads.
        let pointer: OpaquePointer
        let context: Unmanaged<HandleContext>
        let users = HandleUsers()
    }

    /// Runs `body` with the C handle of the session now, which is not closed while `body` runs
    /// (a renewal or `close()` waits for it); once it is closed, returns `closed` instead.
    /// `body` only submits a request: completions come on the C client's thread.
    func withHandle<T>(closed: T, _ body: (OpaquePointer) -> T) -> T {
        // A handle replaced by a renewal between the read and the use: the new one serves.
        for _ in 0..<2 {
            let handle = current.withLock { $0 }
            guard handle.users.enter() else { continue }
            defer { handle.users.leave() }
            return body(handle.pointer)
        }
        return closed
    }

    private init(handle: Handle, core: SessionCore, connectString: String, timeoutMilliseconds: Int32,
                 connectTimeout: Duration, access: ZooKeeperAccess) {
        current = Locked(handle)
        self.access = access
        self.core = core
        self.connectString = connectString
        self.timeoutMilliseconds = timeoutMilliseconds
        self.connectTimeout = connectTimeout
    }

    /// Opens a session and waits until it is connected.
    ///
    /// - Parameters:
    ///   - servers: `host:port[,host:port…]`.
    ///   - chroot: a path every operation is relative to, e.g. `/helios`; created when missing.
    ///   - sessionTimeout: how long the server keeps the session (and its ephemeral nodes)
    ///     after the client goes silent.
    ///   - connectTimeout: how long to wait for the first connection.
    ///   - access: the credentials added to every connection, and the ACL of each node created;
    ///     by default none, and nodes open to everyone.
    public static func connect(
        servers: String,
        chroot: String? = nil,
        sessionTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(15),
        access: ZooKeeperAccess = .open
    ) async throws -> ZooKeeperSession {
        if let chroot, chroot != "/" {
            // The C client does not create the chroot node; create it from the root first. Its
            // ancestors are open, the chroot itself gets the ACL of the root of the chroot's tree.
            let root = try await connect(servers: servers, chroot: nil, sessionTimeout: sessionTimeout,
                                         connectTimeout: connectTimeout, access: .init(credentials: access.credentials))
            do {
                if try await root.exists(chroot) == nil {
                    try await root.createPath(String(chroot.prefix(upTo: chroot.lastIndex(of: "/")!)))
                    do {
                        try await root.create(chroot, acl: access.acl("/"))
                    } catch let error as ZooKeeperError where error.code == .nodeExists {}
                }
                await root.close()
            } catch {
                await root.close()
                throw error
            }
        }
        ZooKeeperLogging.configureOnce()
        let core = SessionCore()
        let connectString = servers + (chroot.map { $0 == "/" ? "" : $0 } ?? "")
        let timeoutMilliseconds = Int32(sessionTimeout.components.seconds * 1000
            + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        guard let handle = await openOffThePool(connectString, timeoutMilliseconds, core: core) else {
            throw ZooKeeperError(code: .badArguments, operation: "connect", path: servers)
        }
        let session = ZooKeeperSession(handle: handle, core: core, connectString: connectString,
                                       timeoutMilliseconds: timeoutMilliseconds, connectTimeout: connectTimeout,
                                       access: access)
        do {
            try await core.waitUntilConnected(timeout: connectTimeout)
            try await session.authenticate()
        } catch {
            await session.close()
            throw error
        }
        let expiries = core.subscribeStates()
        session.renewal.withLock { renewal in
            renewal = Task { [weak session] in
                for await state in expiries where state == .expired { await session?.renew() }
            }
        }
        return session
    }

    /// `open` on a thread of its own: `zookeeper_init` resolves the servers' names, which blocks.
    private static func openOffThePool(_ connectString: String, _ timeoutMilliseconds: Int32,
                                       core: SessionCore) async -> Handle? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Handle?, Never>) in
            let thread = Thread { continuation.resume(returning: open(connectString, timeoutMilliseconds, core: core)) }
            thread.name = "zookeeper-init"
            thread.start()
        }
    }

    /// A new C handle, whose watcher events count from now on.
    private static func open(_ connectString: String, _ timeoutMilliseconds: Int32, core: SessionCore) -> Handle? {
        let context = Unmanaged.passRetained(HandleContext(core: core, generation: core.nextGeneration()))
        guard let pointer = zookeeper_init2(connectString, sessionWatcher, timeoutMilliseconds, nil,
                                            context.toOpaque(), 0, ZooKeeperLogging.callback)
        else {
            context.release()
            return nil
        }
        return Handle(pointer: pointer, context: context)
    }

    /// Replaces an expired session with a new one and restores what this client owned in it.
    /// A handle that cannot be made (`zookeeper_init` fails when the servers do not resolve, which
    /// often comes with the trouble that expired the session) is tried again with a back-off.
    private func renew() async {
        var wait: Duration = .milliseconds(100)
        while !core.isClosing {
            guard let new = await Self.openOffThePool(connectString, timeoutMilliseconds, core: core) else {
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(10))
                continue
            }
            // The swap and the closing check under one lock: `close()` marks closing before it
            // takes the current handle, so each handle is closed exactly once, by one of the two.
            let old: Handle? = current.withLock { handle in
                guard !core.isClosing else { return nil }
                defer { handle = new }
                return handle
            }
            guard let old else {
                await Self.close(new) // closed meanwhile: the new handle is nobody's
                return
            }
            await Self.close(old)
            do {
                try await core.waitUntilConnected(timeout: connectTimeout)
                try await authenticate()
            } catch {
                continue // not reachable yet, or expired again: start over with a fresh handle
            }
            // Best effort: a node that exists or a call that fails is left to the caller's next read.
            let (ephemerals, watches) = core.owned
            for (path, data) in ephemerals.sorted(by: { $0.key < $1.key }) {
                _ = try? await create(path, data: data, mode: .ephemeral)
            }
            for watch in watches {
                if watch.children {
                    _ = try? await children(watch.path, watch: true)
                } else {
                    _ = try? await exists(watch.path, watch: true)
                }
            }
            core.sessionRenewed(watches: watches)
            return
        }
    }

    /// Adds the session's credentials to the connection now (the C client sends them again
    /// after a reconnection; a new handle needs them once).
    private func authenticate() async throws {
        for credential in access.credentials {
            try await addAuth(scheme: credential.scheme, credentials: credential.value)
        }
    }

    /// The session state now.
    public var state: SessionState { core.currentState }

    /// The session id ZooKeeper assigned (0 before the first connection); a renewed session has a new one.
    public var sessionID: Int64 {
        withHandle(closed: 0) { zoo_client_id($0)?.pointee.client_id ?? 0 }
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
        // The renewal ends first (it sees the session closing), so no handle is made after this one is closed.
        let renewing = renewal.withLock { $0 }
        renewing?.cancel()
        await renewing?.value
        await Self.close(current.withLock { $0 })
        core.finish()
    }

    /// `zookeeper_close` blocks until the I/O and completion threads stop: give it a thread.
    /// Then no callback of the handle can run any more, and its context goes.
    private static func close(_ handle: Handle) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                handle.users.closeWhenIdle()
                zookeeper_close(handle.pointer)
                handle.context.release()
                continuation.resume()
            }
            thread.name = "zookeeper-close"
            thread.start()
        }
    }
}

/// Who is submitting through a C handle now: `zookeeper_close` frees it, so it waits for them,
/// and nobody enters once it started.
final class HandleUsers: Sendable {
    private let state = Locked((users: 0, closed: false))

    func enter() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.users += 1
            return true
        }
    }

    func leave() {
        state.withLock { $0.users -= 1 }
    }

    /// Marks the handle closed and returns once the last user left (submitting takes microseconds).
    func closeWhenIdle() {
        state.withLock { $0.closed = true }
        while state.withLock({ $0.users }) > 0 { usleep(100) }
    }
}

/// The context of one C handle: events of a handle that was replaced are ignored.
final class HandleContext: Sendable {
    let core: SessionCore
    let generation: Int

    init(core: SessionCore, generation: Int) {
        self.core = core
        self.generation = generation
    }
}

/// A watch armed by this client, to arm again in a renewed session.
struct ArmedWatch: Hashable, Sendable {
    let path: String
    let children: Bool
}

/// The session's state across its C handles, shared with the watcher through each handle's
/// `HandleContext`.
final class SessionCore: Sendable {
    private struct State {
        var sessionState: SessionState = .connecting
        var closing = false
        var generation = 0
        var ephemerals: [String: Data] = [:]
        var watches: Set<ArmedWatch> = []
        var connectWaiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
        var stateSubscribers: [UUID: AsyncStream<SessionState>.Continuation] = [:]
        var eventSubscribers: [UUID: AsyncStream<WatchEvent>.Continuation] = [:]
    }

    private let state = Locked(State())

    var currentState: SessionState { state.withLock { $0.sessionState } }
    var isClosing: Bool { state.withLock { $0.closing } }
    var generation: Int { state.withLock { $0.generation } }

    func nextGeneration() -> Int {
        state.withLock { state in
            state.generation += 1
            return state.generation
        }
    }

    /// The ephemeral nodes and watches to restore in a renewed session.
    var owned: (ephemerals: [String: Data], watches: Set<ArmedWatch>) {
        state.withLock { ($0.ephemerals, $0.watches) }
    }

    func own(ephemeral path: String, data: Data?) {
        state.withLock { $0.ephemerals[path] = data }
    }

    func armed(_ watch: ArmedWatch) {
        _ = state.withLock { $0.watches.insert(watch) }
    }

    /// The restored session is ready: say so, then fire every watch once.
    func sessionRenewed(watches: Set<ArmedWatch>) {
        let subscribers = state.withLock { Array($0.stateSubscribers.values) }
        for subscriber in subscribers { subscriber.yield(.renewed) } // the state itself stays .connected
        for watch in watches.sorted(by: { ($0.path, $0.children ? 1 : 0) < ($1.path, $1.children ? 1 : 0) }) {
            watchFired(WatchEvent(kind: watch.children ? .childrenChanged : .dataChanged, path: watch.path))
        }
    }

    /// Marks the session closing; a renewal waiting for its connection stops waiting.
    func markClosing() -> Bool {
        let (first, waiters) = state.withLock { state in
            if state.closing { return (false, [CheckedContinuation<Void, any Error>]()) }
            state.closing = true
            defer { state.connectWaiters.removeAll() }
            return (true, Array(state.connectWaiters.values))
        }
        for waiter in waiters { waiter.resume(throwing: ZooKeeperError(code: .closing, operation: "connect")) }
        return first
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
        let subscribers = state.withLock { state in
            // A watch fires once: it is no longer armed.
            switch event.kind {
            case .childrenChanged: state.watches.remove(ArmedWatch(path: event.path, children: true))
            case .created, .dataChanged: state.watches.remove(ArmedWatch(path: event.path, children: false))
            case .deleted:
                state.watches.remove(ArmedWatch(path: event.path, children: true))
                state.watches.remove(ArmedWatch(path: event.path, children: false))
            }
            return Array(state.eventSubscribers.values)
        }
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

    /// After the last `zookeeper_close` returned: end the streams.
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
    }
}

/// The global watcher of every session: session events and the watches armed with `watch: true`.
private let sessionWatcher: watcher_fn = { _, type, state, path, context in
    guard let context else { return }
    let handle = Unmanaged<HandleContext>.fromOpaque(context).takeUnretainedValue()
    let core = handle.core
    guard handle.generation == core.generation else { return } // a replaced handle
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
/// The C client's own log lines ("…:ZOO_ERROR@check_events@2985: Socket … Connection refused")
/// go through swift-log, label `zookeeper.client`, at debug level (trace for its info and debug
/// lines): they are the client's retries, which this module reports itself, as state changes
/// and errors. Shown with a log level of debug.
enum ZooKeeperLogging {
    private static let configured = Locked(false)
    static let logger = Logger(label: "zookeeper.client")

    static func configureOnce() {
        configured.withLock { done in
            guard !done else { return }
            done = true
            zoo_set_debug_level(ZOO_LOG_LEVEL_WARN)
        }
    }

    /// The handles' log callback: called on the client's threads with one formatted line.
    static let callback: @convention(c) (UnsafePointer<CChar>?) -> Void = { message in
        guard let message else { return }
        let line = String(cString: message)
        let level: Logger.Level = line.contains("ZOO_ERROR@") || line.contains("ZOO_WARN@") ? .debug : .trace
        // The text after "ZOO_LEVEL@function@line: " is the message; the prefix is the client's own timestamp.
        let text = line.range(of: ": ", range: (line.range(of: "ZOO_")?.upperBound ?? line.startIndex)..<line.endIndex)
            .map { String(line[$0.upperBound...]) } ?? line
        logger.log(level: level, "\(text.trimmingCharacters(in: .newlines))")
    }
}

/// Requests a session sent: reads are `get`, `exists`, `children` and `getacl`; writes are
/// creates, sets, deletes, ACL changes and each operation of a transaction.
public struct RequestCounts: Sendable, Equatable {
    public var reads = 0
    public var writes = 0

    public init(reads: Int = 0, writes: Int = 0) {
        self.reads = reads
        self.writes = writes
    }
}
