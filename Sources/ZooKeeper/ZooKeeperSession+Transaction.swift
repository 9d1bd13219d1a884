internal import CZooKeeper
import Foundation

/// One operation of a multi-op transaction.
public enum TransactionOperation: Sendable, Equatable {
    /// Creates a node with the session's ACL for its path (`ZooKeeperAccess`).
    case create(path: String, data: Data, mode: CreateMode)
    case set(path: String, data: Data, version: Int32?)
    case delete(path: String, version: Int32?)
    /// Fails the transaction unless the node is at `version`.
    case check(path: String, version: Int32)

    public var path: String {
        switch self {
        case .create(let path, _, _), .set(let path, _, _), .delete(let path, _), .check(let path, _): path
        }
    }

    var name: String {
        switch self {
        case .create: "create"
        case .set: "set"
        case .delete: "delete"
        case .check: "check"
        }
    }
}

/// The result of one operation of a committed transaction.
public enum TransactionResult: Sendable, Equatable {
    case created(path: String)
    case set(NodeStat)
    case deleted
    case checked
}

/// A failed transaction: nothing of it was applied.
public struct TransactionError: Error, Sendable, CustomStringConvertible {
    /// The index of the operation that failed.
    public let index: Int
    /// The failed operation's error.
    public let underlying: ZooKeeperError

    public var description: String {
        "transaction rolled back at operation \(index): \(underlying)"
    }
}

extension ZooKeeperSession {
    /// Commits `operations` atomically: all of them or none.
    ///
    /// Throws `TransactionError` naming the failing operation when the server refused it,
    /// or `ZooKeeperError` when the request failed as a whole (connection loss, closing).
    @discardableResult
    public func transaction(_ operations: [TransactionOperation]) async throws -> [TransactionResult] {
        guard !operations.isEmpty else { return [] }
        let request = TransactionRequest(operations, acl: access.acl)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            request.finish = { continuation.resume(with: $0) }
            submit(request)
        }
        return request.committedResults()
    }

    /// Sends a transaction and returns at once: ZooKeeper applies a session's requests in the
    /// order they were sent, so transactions submitted one after another apply in that order
    /// without a round trip each. Await `result()` for its outcome.
    public func submit(_ operations: [TransactionOperation]) -> PendingTransaction {
        let pending = PendingTransaction()
        let request = TransactionRequest(operations, acl: access.acl)
        request.finish = { result in pending.fulfil(result.map { request.committedResults() }) }
        submit(request)
        return pending
    }

    /// Sends every transaction at once, in order, and waits for all of them. Each commits or
    /// fails on its own; the results are in the transactions' order.
    public func pipelinedTransactions(_ transactions: [[TransactionOperation]]) async -> [Result<[TransactionResult], any Error>] {
        let pending = transactions.map { submit($0) }
        var results: [Result<[TransactionResult], any Error>] = []
        for transaction in pending { results.append(await transaction.result()) }
        return results
    }

    /// Hands `request` to the C client; its `finish` runs once, from the completion thread or here.
    private func submit(_ request: TransactionRequest) {
        count(writes: request.operations.count)
        let context = Unmanaged.passRetained(request).toOpaque()
        let rc = withHandle(closed: ZCLOSING.rawValue) {
            zoo_amulti($0, Int32(request.operations.count), request.ops, request.results, transactionCompletion, context)
        }
        if rc != ZOK.rawValue {
            // The completion never runs for a request that was not sent.
            Unmanaged<TransactionRequest>.fromOpaque(context).release()
            request.complete(.failure(ZooKeeperError(code: .init(rawValue: rc), operation: "multi")))
        }
    }
}

/// A transaction sent and not yet answered.
public final class PendingTransaction: Sendable {
    private typealias Outcome = Result<[TransactionResult], any Error>
    private let state = Locked<(outcome: Outcome?, waiters: [CheckedContinuation<Outcome, Never>])>((nil, []))

    /// The outcome, once ZooKeeper answered. May be awaited any number of times.
    public func result() async -> Result<[TransactionResult], any Error> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Outcome? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// From the completion thread: must not block.
    func fulfil(_ outcome: Result<[TransactionResult], any Error>) {
        let waiters = state.withLock { state in
            state.outcome = outcome
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}

/// The C buffers of one `zoo_amulti` call. The client writes the results (and created paths,
/// and set stats) when the reply arrives, so they live until the completion has run.
final class TransactionRequest: @unchecked Sendable {
    // @unchecked: the buffers are written by the C completion thread before the continuation
    // resumes, and read only after it.
    let operations: [TransactionOperation]
    let ops: UnsafeMutablePointer<zoo_op_t>
    let results: UnsafeMutablePointer<zoo_op_result_t>
    /// Where each create writes the path it made: its own path plus a sequence number fits.
    let pathBuffers: UnsafeMutablePointer<CChar>
    let pathOffsets: [Int]
    let stats: UnsafeMutablePointer<Stat>
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var vectors: [ACLVector] = []
    /// Called once with the outcome.
    var finish: ((Result<Void, any Error>) -> Void)?

    static func pathBufferLength(_ path: String) -> Int { path.utf8.count + 16 }

    init(_ operations: [TransactionOperation], acl: (String) -> [ACLEntry]?) {
        self.operations = operations
        let count = operations.count
        ops = .allocate(capacity: count)
        results = .allocate(capacity: count)
        results.initialize(repeating: zoo_op_result_t(), count: count)
        var offsets: [Int] = []
        var total = 0
        for operation in operations {
            offsets.append(total)
            if case .create = operation { total += Self.pathBufferLength(operation.path) }
        }
        pathOffsets = offsets
        pathBuffers = .allocate(capacity: max(total, 1))
        pathBuffers.initialize(repeating: 0, count: max(total, 1))
        stats = .allocate(capacity: count)
        stats.initialize(repeating: Stat(), count: count)
        for (index, operation) in operations.enumerated() {
            let op = ops + index
            let path = copy(operation.path)
            switch operation {
            case .create(_, let data, let mode):
                let (bytes, length) = copy(data)
                let vector = acl(operation.path).map(ACLVector.init)
                if let vector { vectors.append(vector) }
                zoo_create_op_init(op, path, bytes, length, vector?.pointer ?? OpenACL.pointer, mode.flags,
                                   pathBuffers + pathOffsets[index], Int32(Self.pathBufferLength(operation.path)))
            case .set(_, let data, let version):
                let (bytes, length) = copy(data)
                zoo_set_op_init(op, path, bytes, length, version ?? -1, stats + index)
            case .delete(_, let version):
                zoo_delete_op_init(op, path, version ?? -1)
            case .check(_, let version):
                zoo_check_op_init(op, path, version)
            }
        }
    }

    deinit {
        for string in strings { free(string) }
        ops.deallocate()
        results.deallocate()
        pathBuffers.deallocate()
        stats.deallocate()
    }

    private func copy(_ string: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(string)!
        strings.append(pointer)
        return pointer
    }

    private func copy(_ data: Data) -> (UnsafeMutablePointer<CChar>, Int32) {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(data.count, 1))
        data.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { memcpy(pointer, base, data.count) }
        }
        strings.append(pointer)
        return (pointer, Int32(data.count))
    }

    /// Runs `finish` once and lets go of it (it may hold the request).
    func complete(_ result: Result<Void, any Error>) {
        let finish = self.finish
        self.finish = nil
        finish?(result)
    }

    func firstFailure() -> TransactionError? {
        for index in operations.indices {
            let rc = results[index].err
            if rc != ZOK.rawValue && rc != ZRUNTIMEINCONSISTENCY.rawValue {
                return TransactionError(
                    index: index,
                    underlying: ZooKeeperError(code: .init(rawValue: rc), operation: operations[index].name,
                                               path: operations[index].path))
            }
        }
        return nil
    }

    func committedResults() -> [TransactionResult] {
        operations.indices.map { index in
            switch operations[index] {
            case .create: .created(path: String(cString: pathBuffers + pathOffsets[index]))
            case .set: .set(NodeStat(stats[index]))
            case .delete: .deleted
            case .check: .checked
            }
        }
    }
}

private let transactionCompletion: void_completion_t = { rc, data in
    let request = Unmanaged<TransactionRequest>.fromOpaque(data!).takeRetainedValue()
    if rc == ZOK.rawValue {
        request.complete(.success(()))
    } else {
        let failure: any Error = request.firstFailure()
            ?? ZooKeeperError(code: .init(rawValue: rc), operation: "multi")
        request.complete(.failure(failure))
    }
}
