import Foundation

/// A small pool of dedicated threads for blocking C calls (curl_easy_perform, git fetch).
///
/// Swift's cooperative pool has one thread per core; a blocking call there stalls every
/// task scheduled behind it. Work submitted here runs on threads of its own.
public final class BlockingPool: @unchecked Sendable {
    // @unchecked: `jobs` is only touched while `condition` is locked. NSCondition (pthreads)
    // rather than Synchronization.Mutex: the thread sanitizer understands it.

    /// The pool shared by the wrapper modules.
    public static let shared = BlockingPool(threads: 8)

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    /// Starts `threads` worker threads that live as long as the process.
    public init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "blocking-io-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a pool thread and returns its result to the calling task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` on a thread of its own, for a call that may block for as long as it likes
    /// (a stream that lasts as long as its reader): on the pool it would hold a thread others wait for.
    public static func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "blocking-io-long"
            thread.start()
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
