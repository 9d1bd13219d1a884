import Foundation
import ZooKeeper

/// A plan too large for one ZooKeeper transaction (a request is at most 1 MB) goes through a
/// journal, so that it is still applied whole or not at all:
///
/// 1. its operations are written, in transaction-sized chunks, under `/config/journal/<id>`,
///    where no reader looks;
/// 2. one transaction commits it: it checks the check index, creates `<id>/committed` and
///    bumps the check index — from here on the plan *is* the configuration;
/// 3. the chunks are replayed onto the tree in order, each transaction guarded by `committed`,
///    and the journal is deleted.
///
/// A writer that dies before 2 leaves the old state and a dead journal (deleted once the check
/// index moved past it); one that dies after 2 leaves a committed journal that the next
/// `readConfig` — of any master or CLI — replays before reading. Replaying is idempotent: a
/// chunk that fails as a whole with "node exists" or "no node" was applied before, which the
/// tree confirms (every node it touched is as the whole plan leaves it); one the tree does not
/// confirm failed for a real reason and is reported (`replayFailed`).
extension HeliosStore {
    /// The most bytes of paths and data one transaction carries: well under ZooKeeper's 1 MB.
    public static let transactionBudget = 512 * 1024

    /// Roughly what an operation weighs in a request.
    static func weight(_ operation: TransactionOperation) -> Int {
        switch operation {
        case .create(let path, let data, _), .set(let path, let data, _): path.utf8.count + data.count + 32
        case .delete(let path, _), .check(let path, _): path.utf8.count + 32
        }
    }

    /// `operations` split in order into transactions of at most `budget` bytes.
    public static func transactions(of operations: [TransactionOperation], budget: Int = transactionBudget) -> [[TransactionOperation]] {
        var batcher = TransactionBatcher(budget: budget)
        var batches = operations.compactMap { batcher.add($0) }
        if !batcher.batch.isEmpty { batches.append(batcher.batch) }
        return batches
    }

    /// Finishes every committed journal and deletes the dead ones. Every reader of the whole
    /// configuration calls it first, so none sees a plan half replayed.
    func finishJournals(checkIndex: Int32) async throws {
        for entry in try await children(Paths.journal).sorted() {
            if try await session.exists(Paths.journalCommitted(entry)) != nil {
                let names = try await children(Paths.journalEntry(entry)).filter { $0.hasPrefix("chunk-") }.sorted()
                let chunks: [[TransactionOperation]]
                do {
                    chunks = try await concurrently(names, window: 8) { name in
                        try JournalCodec.decode(try await self.session.get(Paths.journalEntry(entry) + "/" + name).data)
                    }
                } catch let error as ZooKeeperError where error.code == .noNode {
                    continue // another reader finished it meanwhile
                }
                try await replay(entry, chunks)
            } else if let written = Int32(entry.prefix { $0 != "-" }), written < checkIndex {
                // Written against a check index that is gone: it can never commit.
                try await discard(entry)
            }
        }
    }

    /// The committed journal being replayed, if any; `watch` arms a watch on its end.
    func committedJournal(watch: Bool = false) async throws -> String? {
        for entry in try await children(Paths.journal).sorted()
        where try await session.exists(Paths.journalCommitted(entry), watch: watch) != nil {
            return entry
        }
        return nil
    }

    /// After a commit whose reply was lost: whether it committed (asked again while the
    /// connection comes back). Nil when ZooKeeper could not say.
    func committed(_ entry: String) async -> Bool? {
        var wait: Duration = .milliseconds(100)
        for _ in 0..<8 {
            do {
                return try await session.exists(Paths.journalCommitted(entry)) != nil
            } catch {
                try? await Task.sleep(for: wait)
                wait *= 2
            }
        }
        return nil
    }

    /// Applies a committed journal's chunks in order, then deletes it.
    func replay(_ entry: String, _ chunks: [[TransactionOperation]]) async throws {
        var replays = TransactionPipeline(session: session)
        await sendReplays(entry, chunks, into: &replays)
        try await finish(entry, chunks, results: await replays.finish())
    }

    /// Sends the chunks in order, each guarded by `committed`: the session keeps their order,
    /// and each applies, or fails because it already was or the journal is gone.
    fileprivate func sendReplays(_ entry: String, _ chunks: [[TransactionOperation]],
                                 into pipeline: inout TransactionPipeline) async {
        let guardOperation = TransactionOperation.check(path: Paths.journalCommitted(entry), version: -1)
        for (index, chunk) in chunks.enumerated() {
            await pipeline.send([guardOperation] + chunk)
            if index == 0 && Failpoint.armed == "journal-replaying" {
                await pipeline.settle() // the first chunk alone, so that a test can kill the writer after it
                await Failpoint.reach("journal-replaying")
            }
        }
    }

    /// Deletes the journal the replays with `results` finished. `children`: the entry's
    /// children, when the caller knows them.
    fileprivate func finish(_ entry: String, _ chunks: [[TransactionOperation]],
                            results: [Result<[TransactionResult], any Error>], children: [String]? = nil) async throws {
        var refused: [(chunk: Int, error: TransactionError)] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .success: continue
            case .failure(let error as TransactionError) where error.index == 0:
                return // another reader finished and deleted the journal
            case .failure(let error as TransactionError) where [.nodeExists, .noNode].contains(error.underlying.code):
                refused.append((index, error)) // applied before (by a writer that died, another reader now), or not
            case .failure(let error):
                throw error // ZooKeeper away: the journal stays for the next reader
            }
        }
        let failure = try await firstUnconfirmed(refused, of: chunks)
        try await discard(entry, children: children)
        if let failure {
            throw HeliosStoreError.replayFailed(entry: entry, chunk: failure.chunk, path: failure.path,
                                                cause: "\(failure.error.underlying)")
        }
    }

    /// The first refused chunk the tree does not show applied: a node it touched is not as the
    /// whole plan leaves it (later chunks may change what an earlier one wrote).
    private func firstUnconfirmed(_ refused: [(chunk: Int, error: TransactionError)], of chunks: [[TransactionOperation]])
        async throws -> (chunk: Int, path: String, error: TransactionError)? {
        guard !refused.isEmpty else { return nil }
        var final: [String: Data?] = [:] // nil: absent
        for operation in chunks.joined() {
            switch operation {
            case .create(let path, let data, _), .set(let path, let data, _): final[path] = .some(data)
            case .delete(let path, _): final[path] = .some(nil)
            case .check: continue
            }
        }
        for (chunk, error) in refused {
            for operation in chunks[chunk] {
                guard case .some(let expected) = final[operation.path] else { continue }
                if try await data(at: operation.path) != expected { return (chunk, operation.path, error) }
            }
        }
        return nil
    }

    /// A node's data; nil when there is no node.
    private func data(at path: String) async throws -> Data? {
        do {
            return try await session.get(path).data
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    /// Deletes a journal entry and its children in one transaction.
    fileprivate func discard(_ entry: String, children known: [String]? = nil) async throws {
        let path = Paths.journalEntry(entry)
        var children = known ?? []
        if known == nil { children = try await self.children(path) }
        do {
            try await session.transaction(children.sorted().map { .delete(path: path + "/" + $0, version: nil) }
                + [.delete(path: path, version: nil)])
        } catch let error as TransactionError where [.noNode, .notEmpty].contains(error.underlying.code) {
            // Deleted, or being deleted, by another reader.
        }
    }
}

/// Splits operations, in order, into transactions of at most `budget` bytes.
struct TransactionBatcher {
    let budget: Int
    /// The transaction being filled.
    private(set) var batch: [TransactionOperation] = []
    private var weight = 0

    init(budget: Int) {
        self.budget = budget
    }

    /// Adds `operation`; returns the transaction it closes when it does not fit in it.
    mutating func add(_ operation: TransactionOperation) -> [TransactionOperation]? {
        let operationWeight = HeliosStore.weight(operation)
        var full: [TransactionOperation]?
        if !batch.isEmpty && weight + operationWeight > budget {
            full = batch
            batch = []
            weight = 0
        }
        batch.append(operation)
        weight += operationWeight
        return full
    }
}

/// Transactions sent in order over one session with at most `window` unanswered at a time: a
/// plan of tens of megabytes is not handed to the server all at once (the server closed the
/// connection of a master that sent a 10,000-job journal in one go).
struct TransactionPipeline {
    static let window = 8
    let session: ZooKeeperSession
    private var inFlight: [PendingTransaction] = []
    private(set) var results: [Result<[TransactionResult], any Error>] = []

    init(session: ZooKeeperSession) {
        self.session = session
    }

    /// Sends `operations` as one transaction, once fewer than `window` are unanswered.
    mutating func send(_ operations: [TransactionOperation]) async {
        if inFlight.count >= Self.window { results.append(await inFlight.removeFirst().result()) }
        inFlight.append(session.submit(operations))
    }

    /// Waits for every transaction sent.
    mutating func settle() async {
        for pending in inFlight { results.append(await pending.result()) }
        inFlight = []
    }

    /// Every transaction's result, in the order sent.
    mutating func finish() async -> [Result<[TransactionResult], any Error>] {
        await settle()
        return results
    }
}

/// A plan on its way into the journal: chunks are sent as they are appended, a few unanswered
/// at a time; `commit()` waits for them, commits, and replays.
final class JournalWriter {
    private let store: HeliosStore
    private let checkIndex: Int32
    private let entry: String
    private var chunks: [[TransactionOperation]] = []
    private var writes: TransactionPipeline

    init(store: HeliosStore, checkIndex: Int32) async {
        self.store = store
        self.checkIndex = checkIndex
        entry = "\(checkIndex)-\(UUID().uuidString.prefix(8).lowercased())"
        writes = TransactionPipeline(session: store.session)
        await writes.send([.create(path: Paths.journalEntry(entry), data: Data(), mode: .persistent)])
    }

    func append(_ chunk: [TransactionOperation]) async {
        let path = Paths.journalChunk(entry, chunks.count)
        chunks.append(chunk)
        await writes.send([.create(path: path, data: JournalCodec.encode(chunk), mode: .persistent)])
    }

    /// Commits the journal if the check index is still the one the plan was made at, with
    /// `closing` (the sync record) in the same transaction, then replays it. Returns the new check index.
    func commit(with closing: [TransactionOperation] = []) async throws -> Int32 {
        if Failpoint.armed == "journal-written" {
            await writes.settle()
            await Failpoint.reach("journal-written")
        }
        // The commit also checks that every chunk is there; the session keeps the order.
        let commit = store.session.submit([.check(path: Paths.configVersion, version: checkIndex)]
            + chunks.indices.map { .check(path: Paths.journalChunk(entry, $0), version: 0) }
            + [.create(path: Paths.journalCommitted(entry), data: Data(), mode: .persistent)]
            + closing + [HeliosStore.bump(from: checkIndex)])
        if Failpoint.armed == "journal-committed" {
            _ = await commit.result()
            await Failpoint.reach("journal-committed")
        }
        // The replays follow at once: guarded by `committed`, they apply only if the commit did.
        var replays = TransactionPipeline(session: store.session)
        await store.sendReplays(entry, chunks, into: &replays)
        do {
            for write in await writes.finish() { _ = try write.get() }
            _ = try await commit.result().get()
        } catch {
            _ = await replays.finish()
            // A commit whose reply was lost may have committed: then the plan *is* the
            // configuration, and it is finished, never discarded.
            if let code = Self.code(of: await commit.result()), [.connectionLoss, .operationTimeout].contains(code) {
                switch await store.committed(entry) {
                case true?:
                    try await store.replay(entry, chunks)
                    return checkIndex + 1
                case nil:
                    throw error // unknown: the next reader finishes it if it committed, deletes it if not
                case false?:
                    break
                }
            }
            try? await store.discard(entry)
            if case .failure(let failure as TransactionError) = await commit.result(),
               failure.index == 0 && failure.underlying.code == .badVersion
                || !closing.isEmpty && failure.index == chunks.count + 2 {
                throw HeliosStoreError.stale(expected: checkIndex) // the check index or the sync record moved
            }
            throw error
        }
        let children = chunks.indices.map(Paths.journalChunkName) + [Paths.journalCommittedName]
        try await store.finish(entry, chunks, results: await replays.finish(), children: children)
        return checkIndex + 1
    }

    /// The ZooKeeper code a failed transaction failed with.
    static func code(of result: Result<[TransactionResult], any Error>) -> ZooKeeperError.Code? {
        guard case .failure(let error) = result else { return nil }
        if let error = error as? TransactionError { return error.underlying.code }
        return (error as? ZooKeeperError)?.code
    }
}

/// Runs `body` for every item with at most `window` in flight; results in the items' order.
/// ZooKeeper pipelines the requests over the session's one connection.
func concurrently<Item: Sendable, Result: Sendable>(
    _ items: [Item], window: Int, _ body: @escaping @Sendable (Item) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        func start() {
            guard next < items.count else { return }
            let index = next
            next += 1
            group.addTask { (index, try await body(items[index])) }
        }
        for _ in 0..<min(window, items.count) { start() }
        while let (index, result) = try await group.next() {
            results[index] = result
            start()
        }
        return results.map { $0! }
    }
}

/// The journal's chunk format: per operation a kind byte, a mode byte, a version
/// (big-endian Int32, -1 for none), then the path and the data, each length-prefixed.
enum JournalCodec {
    static func encode(_ operations: [TransactionOperation]) -> Data {
        var out = Data()
        func append(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        func append(_ bytes: Data) {
            append(UInt32(bytes.count))
            out.append(bytes)
        }
        for operation in operations {
            let (kind, mode, version, data): (UInt8, UInt8, Int32?, Data) = switch operation {
            case .create(_, let data, let mode): (0, code(of: mode), nil, data)
            case .set(_, let data, let version): (1, 0, version, data)
            case .delete(_, let version): (2, 0, version, Data())
            case .check(_, let version): (3, 0, version, Data())
            }
            out.append(contentsOf: [kind, mode])
            append(UInt32(bitPattern: version ?? -1))
            append(Data(operation.path.utf8))
            append(data)
        }
        return out
    }

    static func decode(_ data: Data) throws -> [TransactionOperation] {
        let bytes = [UInt8](data)
        var offset = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, offset + count <= bytes.count else {
                throw HeliosStoreError.corrupt(path: Paths.journal, reason: "truncated journal chunk")
            }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        func integer() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
        func blob() throws -> Data { Data(try take(Int(try integer()))) }
        var operations: [TransactionOperation] = []
        while offset < bytes.count {
            let header = try take(2)
            let raw = Int32(bitPattern: try integer())
            let version: Int32? = raw == -1 ? nil : raw
            let path = String(decoding: try blob(), as: UTF8.self)
            let data = try blob()
            switch header.first! {
            case 0: operations.append(.create(path: path, data: data, mode: try mode(header.last!)))
            case 1: operations.append(.set(path: path, data: data, version: version))
            case 2: operations.append(.delete(path: path, version: version))
            case 3: operations.append(.check(path: path, version: raw))
            default: throw HeliosStoreError.corrupt(path: Paths.journal, reason: "unknown operation \(header.first!)")
            }
        }
        return operations
    }

    private static func code(of mode: CreateMode) -> UInt8 {
        switch mode {
        case .persistent: 0
        case .ephemeral: 1
        case .persistentSequential: 2
        case .ephemeralSequential: 3
        }
    }

    private static func mode(_ code: UInt8) throws -> CreateMode {
        switch code {
        case 0: .persistent
        case 1: .ephemeral
        case 2: .persistentSequential
        case 3: .ephemeralSequential
        default: throw HeliosStoreError.corrupt(path: Paths.journal, reason: "unknown create mode \(code)")
        }
    }
}
