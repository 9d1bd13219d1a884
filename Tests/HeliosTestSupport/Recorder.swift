import Synchronization

/// What a stream delivered so far, for tests to wait on.
public final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    /// Records what `append` is given.
    public init() {}

    /// Records every element of `stream`.
    public init(_ stream: AsyncStream<Element>) {
        Task { [weak self] in
            for await item in stream { self?.append(item) }
        }
    }

    public func append(_ item: Element) { items.withLock { $0.append(item) } }

    public var all: [Element] { items.withLock { $0 } }
}
