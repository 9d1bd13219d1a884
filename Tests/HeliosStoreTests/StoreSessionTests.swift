import Foundation
import HeliosModel
import HeliosPlanner
@testable import HeliosStore
import HeliosTestSupport
import Testing
import ZooKeeper

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct StoreSessionTests {
    @Test func aHostIsUpAgainAfterItsAgentSessionExpires() async throws {
        let servers = try TestServices.requireZooKeeper()
        let port = try #require(Int(servers.split(separator: ":").last ?? ""))
        let chroot = TestServices.uniqueChroot("store-expiry")
        let proxy = try TCPProxy(to: port)
        defer { proxy.stop() }
        let observer = try await HeliosStore.connect(servers: servers, chroot: chroot)
        let agent = try await HeliosStore.connect(servers: "127.0.0.1:\(proxy.port)", chroot: chroot, sessionTimeout: .seconds(4))
        try await agent.registerHost("a", agentID: "agent-a", info: HostInfo(hostname: "a", agentVersion: "test", dockerAPIVersion: nil))
        #expect(try await observer.readCluster().state.hosts["a"]?.up == true)

        proxy.pause()
        let down = await eventually(timeout: .seconds(60)) { (try? await observer.isUp("a")) == false }
        #expect(down, "the server never expired the agent's session")
        #expect(try await observer.readCluster().state.hosts["a"]?.up == false)
        proxy.resume()
        // The renewed session marks the host UP again, with no call from the agent.
        let up = await eventually(timeout: .seconds(60)) { (try? await observer.isUp("a")) == true }
        #expect(up)
        await agent.close()
        await observer.close()
    }

    @Test func taskWatchesFireAndTheSnapshotHoldsWhatAgentsReport() async throws {
        let chroot = TestServices.uniqueChroot("store-watch")
        let servers = try TestServices.requireZooKeeper()
        let master = try await HeliosStore.connect(servers: servers, chroot: chroot)
        let agent = try await HeliosStore.connect(servers: servers, chroot: chroot)
        try await agent.registerHost("h", agentID: "agent-h", info: HostInfo(hostname: "h", agentVersion: "test", dockerAPIVersion: nil))
        let events = Recorder(agent.events())
        let masterEvents = Recorder(master.events())
        #expect(try await agent.tasks(of: "h", watch: true).isEmpty)

        let job = Job(name: "web", version: "1", image: "busybox")
        let desired = DesiredState(jobs: [job.id: job], deployments: ["web": Deployment(name: "web", jobID: job.id, hosts: ["h"])])
        let snapshot = try await master.readCluster()
        try await master.apply(Planner.plan(desired: desired, actual: snapshot.state, base: PlanBase(kind: .cluster), target: "t", now: Date()),
                               to: snapshot)
        let woken = await eventually { events.all.contains(.tasksChanged(host: "h")) }
        #expect(woken, "the agent's task watch did not fire: \(events.all)")
        #expect(!masterEvents.all.contains(.tasksChanged(host: "h")), "a watch the master never armed fired")
        // The master's reads watch the hosts: another host registering is a store event.
        try await agent.registerHost("i", agentID: "agent-i", info: HostInfo(hostname: "i", agentVersion: "test", dockerAPIVersion: nil))
        let noticed = await eventually { masterEvents.all.contains(.hostsChanged) }
        #expect(noticed, "\(masterEvents.all)")
        #expect(try await agent.tasks(of: "h").keys.sorted() == [job.id])

        let status = TaskStatus(jobID: job.id, goal: .start, state: .running, containerID: "c1")
        try await agent.setTaskStatus(status, host: "h")
        let state = try await master.readCluster().state
        #expect(state.statuses["h"]?[job.id] == status)
        // A snapshot file keeps them.
        let file = try JSONEncoder().encode(state)
        #expect(try JSONDecoder().decode(ClusterState.self, from: file).statuses == state.statuses)
        await agent.close()
        await master.close()
    }
}

@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct ElectionTests {
    @Test func aCandidacyWhoseReplyWasLostIsFoundAgainNotDoubled() async throws {
        let chroot = TestServices.uniqueChroot("election-lost")
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
        let other = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
        // A create that reached the server but whose reply was lost leaves a node of this master's.
        let lost = try await store.session.create(Paths.election + "/" + store.candidatePrefix, data: Data("m1".utf8),
                                                  mode: .ephemeralSequential)
        let rival = try await other.standForElection(id: "m2")
        let candidacy = try await store.standForElection(id: "m1")
        #expect(Paths.election + "/" + candidacy.name == lost, "a second node was created beside the lost one")
        #expect(try await store.candidates().map(\.id) == ["m1", "m2"])
        // It leads; the other waits behind it, not behind a stale node of a live master.
        try await store.awaitLeadership(candidacy)
        await store.withdraw(candidacy)
        try await other.awaitLeadership(rival)
        await other.close()
        await store.close()
    }

    @Test func standingAgainAfterAWithdrawalThatDidNotLandKeepsOneCandidacy() async throws {
        let chroot = TestServices.uniqueChroot("election-again")
        let store = try await HeliosStore.connect(servers: try TestServices.requireZooKeeper(), chroot: chroot)
        let first = try await store.standForElection(id: "m1")
        // The master steps down but its delete is lost (a connection loss): it stands again.
        let again = try await store.standForElection(id: "m1")
        #expect(again == first)
        // Two of its nodes (a lost create, then a retried one): the first is kept, the other goes.
        _ = try await store.session.create(Paths.election + "/" + store.candidatePrefix, data: Data("m1".utf8),
                                           mode: .ephemeralSequential)
        #expect(try await store.standForElection(id: "m1") == first)
        #expect(try await store.candidates().map(\.name) == [first.name])
        await store.close()
    }

    @Test func candidatesAreOrderedBySequenceWhateverTheirNames() {
        let names = ["n_zzzz-0000000003", "n_aaaa-0000000010", "n_0000000001", "n_mmmm-0000000002"]
        #expect(names.sorted(by: HeliosStore.electionOrder) == ["n_0000000001", "n_mmmm-0000000002", "n_zzzz-0000000003",
                                                                "n_aaaa-0000000010"])
    }
}
