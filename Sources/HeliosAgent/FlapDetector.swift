/// Tells a crash-looping task from one that died once, as Helios' flap controller does: a task
/// started `limit` times within `window` is flapping, and its restarts back off — twice as long
/// each time, up to `maximumDelay` — until it has stayed up for a whole window.
struct FlapDetector {
    var limit = 5
    var window: Duration = .seconds(30)
    var firstDelay: Duration = .seconds(2)
    var maximumDelay: Duration = .seconds(60)

    private var starts: [ContinuousClock.Instant] = []
    private var delay: Duration?
    /// When the next restart may happen; nil: at once.
    private(set) var notBefore: ContinuousClock.Instant?

    /// Whether the task is flapping now.
    func isFlapping(now: ContinuousClock.Instant) -> Bool {
        starts.filter { now - $0 < window }.count >= limit
    }

    /// Records a start; a flapping task's next one waits longer.
    mutating func started(now: ContinuousClock.Instant) {
        starts = starts.filter { now - $0 < window } + [now]
        guard isFlapping(now: now) else {
            delay = nil
            notBefore = nil
            return
        }
        let next = min(delay.map { $0 * 2 } ?? firstDelay, maximumDelay)
        delay = next
        notBefore = now + next
    }
}

/// A retry delay that doubles from `first` up to `maximum`, and starts over after a success.
struct Backoff {
    let first: Duration
    let maximum: Duration
    private var current: Duration?

    init(first: Duration, maximum: Duration) {
        self.first = first
        self.maximum = maximum
    }

    /// The delay before the next attempt.
    mutating func next() -> Duration {
        let delay = min(current.map { $0 * 2 } ?? first, maximum)
        current = delay
        return delay
    }

    mutating func reset() { current = nil }
}
