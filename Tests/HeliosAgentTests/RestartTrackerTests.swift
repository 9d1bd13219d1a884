@testable import HeliosAgent
import HeliosModel
import Testing

/// The restart tracker is pure: these walk minutes of crash loops and back-offs in no time.
struct RestartTrackerTests {
    let start = ContinuousClock.now
    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func aTaskThatDiesOnceRestartsAtOnce() {
        var tracker = RestartTracker()
        tracker.started(now: at(0))
        #expect(tracker.failed(.exited, now: at(100)) == .init(action: .now, reason: nil))
        #expect(tracker.reason(now: at(100)) == nil)
    }

    @Test func fiveStartsInTheWindowAreFlappingAndTheRestartsBackOffDoublingToTheMaximum() {
        var policy = RestartTracker.Policy()
        policy.flapWindow = .seconds(600) // so the back-off reaches its maximum inside one window
        var tracker = RestartTracker(policy: policy)
        var now = 0
        var waits: [Duration] = []
        for _ in 0..<10 {
            tracker.started(now: at(now))
            now += 10
            let decision = tracker.failed(.exited, now: at(now))
            if case .wait(let delay) = decision.action {
                #expect(decision.reason == .flapping)
                waits.append(delay)
                now += Int(delay.components.seconds * 1000)
            }
        }
        // Starts 1–4 restart at once; from the fifth on: 2, 4, 8, 16, 32, 60 s.
        #expect(waits == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(60)])
        #expect(tracker.isFlapping(now: at(now)))
        #expect(tracker.reason(now: at(now)) == .flapping)
    }

    @Test func withTheDefaultWindowRestartsFarEnoughApartAreNoLongerFlapping() {
        var tracker = RestartTracker()
        var now = 0
        var actions: [RestartTracker.Decision.Action] = []
        for _ in 0..<10 {
            tracker.started(now: at(now))
            now += 10
            let decision = tracker.failed(.exited, now: at(now))
            actions.append(decision.action)
            if case .wait(let delay) = decision.action { now += Int(delay.components.seconds * 1000) }
        }
        // Once 2 + 4 + 8 + 16 s apart, five starts no longer fit in 30 s: a restart at once, and
        // the back-off starts over when the loop goes on.
        #expect(actions == [.now, .now, .now, .now, .wait(.seconds(2)), .wait(.seconds(4)), .wait(.seconds(8)),
                            .wait(.seconds(16)), .now, .wait(.seconds(2))])
    }

    @Test func aWholeQuietWindowEndsFlappingAndTheBackOffStartsOver() {
        var policy = RestartTracker.Policy()
        policy.flapLimit = 3
        policy.flapWindow = .milliseconds(300)
        policy.firstDelay = .milliseconds(10)
        var tracker = RestartTracker(policy: policy)
        for time in [0, 10, 20] { tracker.started(now: at(time)) }
        #expect(tracker.failed(.exited, now: at(25)) == .init(action: .wait(.milliseconds(10)), reason: .flapping))
        tracker.started(now: at(40))
        #expect(tracker.failed(.exited, now: at(45)).action == .wait(.milliseconds(20)))
        // It stayed up for more than a window.
        #expect(!tracker.isFlapping(now: at(400)))
        tracker.started(now: at(400))
        #expect(tracker.failed(.exited, now: at(410)) == .init(action: .now, reason: nil))
        for time in [420, 430] { tracker.started(now: at(time)) }
        #expect(tracker.failed(.exited, now: at(435)).action == .wait(.milliseconds(10)))
    }

    @Test func pullsSayWhetherTheImageIsMissingAndBackOffUntilOneSucceeds() {
        var tracker = RestartTracker()
        #expect(tracker.failed(.pullFailed(missing: true), now: at(0)) == .init(action: .wait(.seconds(2)), reason: .imageMissing))
        #expect(tracker.reason(now: at(1000)) == .imageMissing)
        #expect(tracker.failed(.pullFailed(missing: false), now: at(2000)) == .init(action: .wait(.seconds(4)), reason: .imagePullFailed))
        tracker.succeeded(.pullFailed(missing: false))
        #expect(tracker.reason(now: at(2001)) == nil)
        #expect(tracker.failed(.pullFailed(missing: false), now: at(3000)).action == .wait(.seconds(2)))
    }

    @Test func aHeldPortBacksOffAndSaysSo() {
        var tracker = RestartTracker()
        let delays = (0..<7).map { _ in tracker.failed(.portInUse, now: at(0)).action }
        #expect(delays == [2, 4, 8, 16, 32, 60, 60].map { .wait(.seconds($0)) })
        #expect(tracker.reason(now: at(100)) == .portInUse)
        // Past the wait, nothing holds the task back any more.
        #expect(tracker.reason(now: at(61_000)) == nil)
        tracker.succeeded(.portInUse)
        #expect(tracker.failed(.portInUse, now: at(70_000)).action == .wait(.seconds(2)))
    }

    @Test func aFailingHealthCheckIsCheckedAgainSoonerAndIsNoThrottle() {
        var tracker = RestartTracker()
        let delays = (0..<8).map { _ in tracker.failed(.unhealthy, now: at(0)) }
        #expect(delays.map(\.action) == [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000].map { .wait(.milliseconds($0)) })
        #expect(delays.allSatisfy { $0.reason == nil })
        tracker.succeeded(.unhealthy)
        #expect(tracker.failed(.unhealthy, now: at(0)).action == .wait(.milliseconds(250)))
    }

    @Test func aRefusedContainerGivesUpForGood() {
        var tracker = RestartTracker()
        #expect(tracker.failed(.refused, now: at(0)) == .init(action: .giveUp, reason: .containerRefused))
        #expect(tracker.gaveUp == .containerRefused)
        #expect(tracker.reason(now: at(3_600_000)) == .containerRefused)
    }
}
