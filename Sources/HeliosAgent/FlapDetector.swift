import HeliosModel

/// Tells a crash-looping task from one that died once, as Helios' flap controller does: a task
/// started `limit` times within `window` is flapping, and its restarts back off — twice as long
/// each time, up to `maximumDelay` — until it has stayed up for a whole window.
struct FlapDetector {
    var limit = 5
    var window: Duration = .seconds(30)
    var firstDelay: Duration = .seconds(2)
    var maximumDelay: Duration = .seconds(60)

    private var starts: [JobID: [ContinuousClock.Instant]] = [:]
    private var delays: [JobID: Duration] = [:]
    private var notBefore: [JobID: ContinuousClock.Instant] = [:]

    /// Whether the task is flapping now.
    func isFlapping(_ id: JobID, now: ContinuousClock.Instant) -> Bool {
        (starts[id] ?? []).filter { now - $0 < window }.count >= limit
    }

    /// Whether a restart may happen now, or must wait for its back-off.
    func mayStart(_ id: JobID, now: ContinuousClock.Instant) -> Bool {
        notBefore[id].map { now >= $0 } ?? true
    }

    /// Records a start; a flapping task's next one waits longer.
    mutating func started(_ id: JobID, now: ContinuousClock.Instant) {
        starts[id, default: []] = (starts[id] ?? []).filter { now - $0 < window } + [now]
        guard isFlapping(id, now: now) else {
            delays[id] = nil
            notBefore[id] = nil
            return
        }
        let delay = min(delays[id].map { $0 * 2 } ?? firstDelay, maximumDelay)
        delays[id] = delay
        notBefore[id] = now + delay
    }

    /// Forgets a task that is gone.
    mutating func forget(_ id: JobID) {
        starts[id] = nil
        delays[id] = nil
        notBefore[id] = nil
    }
}
