import Foundation

/// Named points where a test stops this process to kill it there, as etcd's and TiKV's
/// failpoints do: with `HELIOS_FAILPOINT=<name>` in the environment, the process says
/// `failpoint <name> reached` on stderr when it gets there and waits to be killed.
/// Without it, reaching a point costs one comparison.
enum Failpoint {
    static let armed = ProcessInfo.processInfo.environment["HELIOS_FAILPOINT"]

    static func reach(_ name: String) async {
        guard armed == name else { return }
        FileHandle.standardError.write(Data("failpoint \(name) reached\n".utf8))
        // Wait to be killed; should the test that armed it die first, do not linger.
        let parent = getppid()
        while getppid() == parent { try? await Task.sleep(for: .milliseconds(200)) }
        exit(1)
    }
}
