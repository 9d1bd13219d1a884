import HeliosModel

/// Decides, each time something keeps a task from running, whether its supervisor tries again
/// now, waits, or gives up, and says why — one place for what were four mechanisms (flapping,
/// pull back-off, health-check back-off, port conflicts), as Nomad's RestartTracker is.
///
/// Pure: every call takes the time, so a test walks a crash loop through minutes in no time.
struct RestartTracker {
    /// What went wrong.
    enum Setback: Equatable {
        /// The container ended (crashed, was killed, exited).
        case exited
        /// The image could not be pulled; `missing`: the registry lacks it or will not say.
        case pullFailed(missing: Bool)
        /// Docker could not publish a host port: another process holds it.
        case portInUse
        /// The health check does not pass yet.
        case unhealthy
        /// Docker refused the container's settings: trying the same job again cannot help.
        case refused
        /// The host's policy refuses what the job asks: the same.
        case refusedByPolicy
        /// A secret the job references is not on the host (or not readable as it must be).
        case secretMissing
    }

    struct Decision: Equatable {
        enum Action: Equatable {
            case now
            /// Try again once this much time has passed.
            case wait(Duration)
            /// Do not try again: the task stays FAILED until it changes.
            case giveUp
        }

        let action: Action
        /// Why the task is held back, for its status; nil while it is not (a first restart, a
        /// health check that is merely being waited for).
        let reason: TaskStatus.Throttle?
    }

    struct Policy {
        /// A task started `flapLimit` times within `flapWindow` is flapping.
        var flapLimit = 5
        var flapWindow: Duration = .seconds(30)
        /// Restarts, pulls and port retries: doubling from `firstDelay` up to `maximumDelay`.
        var firstDelay: Duration = .seconds(2)
        var maximumDelay: Duration = .seconds(60)
        /// Health checks: again after a delay doubling from `firstCheck` up to `maximumCheck`.
        var firstCheck: Duration = .milliseconds(250)
        var maximumCheck: Duration = .seconds(10)
    }

    typealias Instant = ContinuousClock.Instant

    let policy: Policy
    private var starts: [Instant] = []
    private var flapDelay = Backoff()
    private var pullDelay = Backoff()
    private var portDelay = Backoff()
    private var secretDelay = Backoff()
    private var checkDelay = Backoff()
    /// The decision that holds the next restart back, and until when.
    private(set) var heldBack: (until: Instant, reason: TaskStatus.Throttle)?
    /// Set once the tracker gave up: the reason, for every status from then on.
    private(set) var gaveUp: TaskStatus.Throttle?

    init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Whether the task has started `flapLimit` times within the window up to `now`.
    func isFlapping(now: Instant) -> Bool {
        starts.filter { now - $0 < policy.flapWindow }.count >= policy.flapLimit
    }

    /// The reason a status reported now carries: given up, held back, or flapping.
    func reason(now: Instant) -> TaskStatus.Throttle? {
        if let gaveUp { return gaveUp }
        if let heldBack, heldBack.until > now { return heldBack.reason }
        return isFlapping(now: now) ? .flapping : nil
    }

    /// A start is being made.
    mutating func started(now: Instant) {
        starts = starts.filter { now - $0 < policy.flapWindow } + [now]
        if !isFlapping(now: now) { flapDelay.reset() }
    }

    /// What to do after `setback`.
    mutating func failed(_ setback: Setback, now: Instant) -> Decision {
        let decision: Decision
        switch setback {
        case .exited:
            guard isFlapping(now: now) else { return Decision(action: .now, reason: nil) }
            decision = Decision(action: .wait(flapDelay.next(policy.firstDelay, policy.maximumDelay)), reason: .flapping)
        case .pullFailed(let missing):
            decision = Decision(action: .wait(pullDelay.next(policy.firstDelay, policy.maximumDelay)),
                                reason: missing ? .imageMissing : .imagePullFailed)
        case .portInUse:
            decision = Decision(action: .wait(portDelay.next(policy.firstDelay, policy.maximumDelay)), reason: .portInUse)
        case .secretMissing:
            decision = Decision(action: .wait(secretDelay.next(policy.firstDelay, policy.maximumDelay)), reason: .secretMissing)
        case .unhealthy:
            return Decision(action: .wait(checkDelay.next(policy.firstCheck, policy.maximumCheck)), reason: nil)
        case .refused, .refusedByPolicy:
            let reason: TaskStatus.Throttle = setback == .refused ? .containerRefused : .refusedByPolicy
            gaveUp = reason
            return Decision(action: .giveUp, reason: reason)
        }
        if case .wait(let delay) = decision.action, let reason = decision.reason {
            heldBack = (now + delay, reason)
        }
        return decision
    }

    /// The step that went wrong before now went right: its back-off starts over.
    mutating func succeeded(_ setback: Setback) {
        switch setback {
        case .exited: return // only a whole window without restarts ends flapping
        case .pullFailed: pullDelay.reset()
        case .portInUse: portDelay.reset()
        case .secretMissing: secretDelay.reset()
        case .unhealthy: checkDelay.reset()
        case .refused, .refusedByPolicy: return
        }
        heldBack = nil
    }
}

/// A delay that doubles on each use up to a maximum, and starts over after a reset.
private struct Backoff {
    private var current: Duration?

    mutating func next(_ first: Duration, _ maximum: Duration) -> Duration {
        let delay = min(current.map { $0 * 2 } ?? first, maximum)
        current = delay
        return delay
    }

    mutating func reset() { current = nil }
}
