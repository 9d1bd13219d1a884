import Foundation
import HeliosStore
import HeliosTestSupport

/// The faults a chaos run injects.
enum FaultKind: String, CaseIterable {
    case killLeader = "kill -9 the leading master"
    case killAgent = "kill -9 an agent"
    case killZooKeeperMember = "kill one ZooKeeper member (quorum kept)"
    case loseQuorum = "kill two ZooKeeper members (quorum lost), then restore them"
    case expireAgentSession = "freeze an agent's ZooKeeper connection past its session timeout"
    case restartDocker = "restart dockerd"
    case stallGit = "stall the git remote (accepts, never answers)"
}

/// What injecting a fault did.
struct Injection {
    /// From when a leader must exist within the session timeout plus 5 s: the kill of the
    /// leader, the quorum's return, else the fault's end.
    var leaderClock: ContinuousClock.Instant = .now
    var dockerRestarted = false
    /// What was seen while the fault lasted, for the report.
    var notes: [String] = []
}

struct FaultInjector {
    let cluster: ChaosCluster
    let store: HeliosStore

    func inject(_ kind: FaultKind, using random: inout some RandomNumberGenerator) async throws -> Injection {
        switch kind {
        case .killLeader:
            var leader: String?
            _ = await eventually(timeout: .seconds(20)) { leader = await cluster.leader(); return leader != nil }
            guard let leader else { return Injection(notes: ["no leader to kill"]) }
            cluster.masters[leader]?.kill()
            let killed = ContinuousClock.now
            try await Task.sleep(for: .seconds(1))
            try cluster.startMaster(leader)
            return Injection(leaderClock: killed, notes: ["killed \(leader)"])

        case .killAgent:
            let host = cluster.hosts.randomElement(using: &random)!
            cluster.agents[host]?.kill()
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...3000, using: &random)))
            try cluster.startAgent(host)
            return Injection(notes: ["killed the agent of \(host)"])

        case .killZooKeeperMember:
            let member = cluster.ensemble.members.randomElement(using: &random)!
            cluster.ensemble.kill(member)
            try await Task.sleep(for: .seconds(5))
            try cluster.ensemble.restart(member)
            _ = await eventually(timeout: .seconds(60)) { ZooKeeperEnsemble.mode(of: member) != nil }
            return Injection(notes: ["killed member \(member.id)"])

        case .loseQuorum:
            let members = Array(cluster.ensemble.members.shuffled(using: &random).prefix(2))
            for member in members { cluster.ensemble.kill(member) }
            try await Task.sleep(for: .seconds(6))
            for member in members { try cluster.ensemble.restart(member) }
            let restored = await eventually(timeout: .seconds(90)) { cluster.ensemble.serves() }
            return Injection(leaderClock: .now, notes: ["killed members \(members.map(\.id))" + (restored ? "" : ", quorum not back")])

        case .expireAgentSession:
            let host = cluster.hosts.last!
            cluster.agentProxy.pause()
            // The ensemble expires the session: the host goes DOWN.
            let expired = await eventually(timeout: ChaosCluster.agentSessionTimeout * 3) {
                (try? await store.readCluster())?.state.hosts[host]?.up == false
            }
            try await Task.sleep(for: .seconds(1))
            cluster.agentProxy.resume()
            return Injection(notes: ["froze \(host)'s connection: " + (expired ? "its session expired, the host went DOWN" : "the host never went DOWN")])

        case .restartDocker:
            let log = cluster.directory.path + "/restart-docker.log"
            guard await runToEnd(["scripts/services.sh", "restart-docker"], log: log) == 0 else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return Injection(notes: ["dockerd not restarted: \(output.trimmingCharacters(in: .whitespacesAndNewlines))"])
            }
            return Injection(dockerRestarted: true, notes: ["dockerd restarted"])

        case .stallGit:
            cluster.gitProxy.pause()
            // The masters' fetches time out and say so in the sync record.
            var reason: String?
            _ = await eventually(timeout: ChaosCluster.gitTimeout * 3) {
                reason = (try? await store.syncRecord())?.reason.rawValue
                return reason == "FetchFailed"
            }
            cluster.gitProxy.resume()
            return Injection(notes: ["sync record reason while stalled: \(reason ?? "none")"])
        }
    }
}

/// Runs a program to its end and returns its exit status, its output going to `log`. Not
/// through Foundation's Process: its wait never returned for a script whose child (dockerd)
/// lives on, so this spawns and waits for the one pid itself, on a thread of its own.
func runToEnd(_ arguments: [String], log: String) async -> Int32 {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            var pid: pid_t = 0
            let argv = arguments.map { strdup($0) } + [nil]
            defer { for argument in argv { free(argument) } }
            guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
                continuation.resume(returning: -1)
                return
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1)
        }
        thread.start()
    }
}
