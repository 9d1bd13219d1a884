internal import CZooKeeper
import Foundation

/// One operation of a multi-op transaction.
public enum TransactionOperation: Sendable, Equatable {
    /// Creates a node open to everyone.
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
        let request = TransactionRequest(operations)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            request.finish = { continuation.resume(with: $0) }
            submit(request)
        }
        return request.committedResults()
    }

    /// Sends every transaction at once, in order, and waits for all of them: ZooKeeper applies
    /// a session's requests in the order they were sent, so this is `transaction` in a loop
    /// without a round trip each. Each transaction commits or fails on its own; the results
    /// are in the transactions' order.
    public func pipelinedTransactions(_ transactions: [[TransactionOperation]]) async -> [Result<[TransactionResult], any Error>] {
        guard !transactions.isEmpty else { return [] }
        let (results, delivery) = AsyncStream.makeStream(of: (Int, Result<[TransactionResult], any Error>).self)
        for (index, operations) in transactions.enumerated() {
            let request = TransactionRequest(operations)
            request.finish = { result in delivery.yield((index, result.map { request.committedResults() })) }
            submit(request)
        }
        var ordered = [Result<[TransactionResult], any Error>?](repeating: nil, count: transactions.count)
        var received = 0
        for await (index, result) in results {
            ordered[index] = result
            received += 1
            if received == transactions.count { break }
        }
        return ordered.map { $0! }
    }

    /// Hands `request` to the C client; its `finish` runs once, from the completion thread or here.
    private func submit(_ request: TransactionRequest) {
        let context = Unmanaged.passRetained(request).toOpaque()
        let rc = zoo_amulti(handle.pointer, Int32(request.operations.count), request.ops, request.results,
                            transactionCompletion, context)
        if rc != ZOK.rawValue {
            // The completion never runs for a request that was not sent.
            Unmanaged<TransactionRequest>.fromOpaque(context).release()
            request.complete(.failure(ZooKeeperError(code: .init(rawValue: rc), operation: "multi")))
        }
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
    let pathBuffers: UnsafeMutablePointer<CChar>
    let stats: UnsafeMutablePointer<Stat>
    private var strings: [UnsafeMutablePointer<CChar>] = []
    /// Called once with the outcome.
    var finish: ((Result<Void, any Error>) -> Void)?

    static let pathBufferLength = 1024

    init(_ operations: [TransactionOperation]) {
        self.operations = operations
        let count = operations.count
        ops = .allocate(capacity: count)
        results = .allocate(capacity: count)
        results.initialize(repeating: zoo_op_result_t(), count: count)
        pathBuffers = .allocate(capacity: count * Self.pathBufferLength)
        pathBuffers.initialize(repeating: 0, count: count * Self.pathBufferLength)
        stats = .allocate(capacity: count)
        stats.initialize(repeating: Stat(), count: count)
        for (index, operation) in operations.enumerated() {
            let op = ops + index
            let path = copy(operation.path)
            switch operation {
            case .create(_, let data, let mode):
                let (bytes, length) = copy(data)
                zoo_create_op_init(op, path, bytes, length, OpenACL.pointer, mode.flags,
                                   pathBuffers + index * Self.pathBufferLength, Int32(Self.pathBufferLength))
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
            case .create: .created(path: String(cString: pathBuffers + index * Self.pathBufferLength))
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
