import Foundation

/// A value behind a lock, with `Synchronization.Mutex`'s `withLock`. It uses NSLock (pthreads)
/// because the thread sanitizer understands it: the C client calls back on its own threads,
/// and a sanitizer that sees every handoff is worth more here than Mutex's few nanoseconds.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
