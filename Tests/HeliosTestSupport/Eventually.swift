import Foundation

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
///
/// Used to wait for a distributed system to converge, never to assert on speed: the
/// timeouts are generous because this machine is shared and noisy.
public func eventually(
    timeout: Duration = .seconds(60),
    every interval: Duration = .milliseconds(200),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
