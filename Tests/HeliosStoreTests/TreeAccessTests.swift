import Foundation
import HeliosModel
@testable import HeliosStore
import HeliosTestSupport
import Testing
import ZooKeeper

/// The secured tree against the real server: each identity can do its part and is refused the rest.
@Suite(.enabled(if: TestServices.zooKeeperEnabled, "needs ZooKeeper: run `make test`"))
struct TreeAccessTests {
    let master = try! ZooKeeperIdentity.generate(user: "helios-master")
    let job = JobID(name: "web", version: "1", hash: String(repeating: "a", count: 40))
    let info = HostInfo(hostname: "h", agentVersion: "test", dockerAPIVersion: nil)

    func agent(_ host: String, of master: ZooKeeperIdentity? = nil) throws -> StoreSecurity {
        let master = master ?? self.master
        return .agent(host: host, shared: try master.derived(user: ZooKeeperIdentity.agentsUser),
                      own: try master.derived(user: ZooKeeperIdentity.agentUser(host)))
    }

    func running(_ id: JobID) -> TaskStatus { TaskStatus(jobID: id, goal: .start, state: .running) }

    func expectNoAuth(_ what: Comment, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("\(what) was allowed")
        } catch let error as ZooKeeperError {
            #expect(error.code == .noAuth, "\(what): \(error)")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test func aTreeMadeByASecuredMasterRefusesEachIdentityWhatIsNotItsOwn() async throws {
        let servers = try TestServices.requireZooKeeper()
        let chroot = TestServices.uniqueChroot("acl")
        let owner = try await HeliosStore.connect(servers: servers, chroot: chroot, security: .master(master))
        let agentA = try await HeliosStore.connect(servers: servers, chroot: chroot, security: try agent("a"))
        let agentB = try await HeliosStore.connect(servers: servers, chroot: chroot, security: try agent("b"))
        let stranger = try await ZooKeeperSession.connect(servers: servers, chroot: chroot)
        defer { Task { await stranger.close(); await agentB.close(); await agentA.close(); await owner.close() } }

        // Each agent registers and reports its own host; the master reads it all.
        try await agentA.registerHost("a", agentID: "id-a", info: info)
        try await agentB.registerHost("b", agentID: "id-b", info: info)
        try await agentA.setTaskStatus(running(job), host: "a")
        try await agentA.appendTaskHistory(running(job), host: "a")
        try await agentB.appendTaskHistory(running(job), host: "b")
        #expect(try await owner.taskStatuses(host: "a")[job]?.state == .running)
        #expect(try await owner.taskHistory(job, host: "b").count == 1)
        #expect(try await owner.readCluster().state.hosts["a"]?.up == true)
        // Agents read the configuration.
        _ = try await agentA.tasks(of: "a")
        _ = try await agentB.session.get(Paths.configVersion)

        await expectNoAuth("an agent writing another host's task status") {
            try await agentB.setTaskStatus(self.running(self.job), host: "a")
        }
        await expectNoAuth("an agent deleting another host's UP node") {
            try await agentB.session.delete(Paths.hostUp("a"))
        }
        await expectNoAuth("an agent writing another host's history") {
            try await agentB.appendTaskHistory(self.running(self.job), host: "a")
        }
        await expectNoAuth("an agent creating a job in /config") {
            try await agentA.session.create(Paths.job(self.job), data: Data("{}".utf8))
        }
        await expectNoAuth("an agent bumping the check index") {
            try await agentA.session.set(Paths.configVersion, data: Data("7".utf8))
        }
        await expectNoAuth("an agent reading the sync record") {
            _ = try await agentA.session.children(Paths.sync)
        }
        await expectNoAuth("an agent standing in the leader election") {
            try await agentA.session.create(Paths.election + "/x-", mode: .ephemeralSequential)
        }
        await expectNoAuth("a client without credentials reading /config") {
            _ = try await stranger.get(Paths.configVersion)
        }
        await expectNoAuth("a client without credentials listing the tree") {
            _ = try await stranger.children("/")
        }
        await expectNoAuth("a client without credentials reading a host's status") {
            _ = try await stranger.get(Paths.hostInfo("a"))
        }
        // A guessed password for agent-a is another identity: refused too, even with the agents' one.
        guard case .agent(_, let shared, _) = try agent("a") else { return }
        let guessed = try ZooKeeperIdentity.generate(user: ZooKeeperIdentity.agentUser("a"))
        let impostor = try await HeliosStore.connect(servers: servers, chroot: chroot,
                                                     security: .agent(host: "a", shared: shared, own: guessed))
        await expectNoAuth("an agent with the wrong password writing host a's status") {
            try await impostor.setTaskStatus(self.running(self.job), host: "a")
        }
        await impostor.close()

        // Without the agents' identity an agent is told at once.
        do {
            _ = try await HeliosStore.connect(servers: servers, chroot: chroot,
                                              security: try agent("a", of: ZooKeeperIdentity.generate(user: "helios-master")))
            Issue.record("an agent of another master connected")
        } catch let error as HeliosStoreError {
            #expect("\(error)".contains("helios zk credentials a"))
        }
        // A store without credentials is told why at once.
        await #expect(throws: HeliosStoreError.self) { try await HeliosStore.connect(servers: servers, chroot: chroot) }
    }

    @Test func anOpenTreeIsSecuredByOneCommandAndKeepsItsState() async throws {
        let servers = try TestServices.requireZooKeeper()
        let chroot = TestServices.uniqueChroot("acl-secure")
        let open = try await HeliosStore.connect(servers: servers, chroot: chroot)
        try await open.registerHost("a", agentID: "id-a", info: info)
        try await open.setTaskStatus(running(job), host: "a")
        try await open.appendTaskHistory(running(job), host: "a")
        await open.close()

        // A master with credentials does not quietly run on an open tree.
        do {
            _ = try await HeliosStore.connect(servers: servers, chroot: chroot, security: .master(master))
            Issue.record("a secured master started on an open tree")
        } catch let error as HeliosStoreError {
            #expect("\(error)".contains("helios zk secure"))
        }

        let secured = try await HeliosStore.secure(servers: servers, chroot: chroot, master: master)
        #expect(secured > 20) // every node, host a's and its history's included

        let stranger = try await ZooKeeperSession.connect(servers: servers, chroot: chroot)
        await expectNoAuth("a client without credentials reading a secured tree") {
            _ = try await stranger.get(Paths.taskStatus("a", self.job))
        }
        await stranger.close()
        let owner = try await HeliosStore.connect(servers: servers, chroot: chroot, security: .master(master))
        let agentA = try await HeliosStore.connect(servers: servers, chroot: chroot, security: try agent("a"))
        let agentB = try await HeliosStore.connect(servers: servers, chroot: chroot, security: try agent("b"))
        // The state made before is whole and the agent owns its host's nodes made while open.
        #expect(try await owner.taskStatuses(host: "a")[job]?.state == .running)
        try await agentA.setTaskStatus(TaskStatus(jobID: job, goal: .start, state: .exited), host: "a")
        try await agentA.appendTaskHistory(running(job), host: "a")
        #expect(try await owner.taskHistory(job, host: "a").count == 2)
        await expectNoAuth("another agent writing host a's status after securing") {
            try await agentB.setTaskStatus(self.running(self.job), host: "a")
        }
        // Running it again changes nothing and still works.
        #expect(try await HeliosStore.secure(servers: servers, chroot: chroot, master: master) >= secured)
        await agentB.close()
        await agentA.close()
        await owner.close()
    }

    @Test func anAgentWithCredentialsWaitsForAMasterToMakeTheTree() async throws {
        let servers = try TestServices.requireZooKeeper()
        let chroot = TestServices.uniqueChroot("acl-nomaster")
        do {
            _ = try await HeliosStore.connect(servers: servers, chroot: chroot, security: try agent("a"))
            Issue.record("an agent made a tree")
        } catch let error as HeliosStoreError {
            #expect("\(error)".contains("no master has made"))
        }
        let root = try await ZooKeeperSession.connect(servers: servers)
        #expect(try await root.exists(chroot) == nil, "the agent left an open chroot behind")
        await root.close()
    }

    /// A renewed session (the old one expired) authenticates again: the agent's UP node, which
    /// only its identity may create, comes back.
    @Test func aRenewedSessionAuthenticatesAgain() async throws {
        let servers = try TestServices.requireZooKeeper()
        let port = try #require(Int(servers.split(separator: ":").last ?? ""))
        let chroot = TestServices.uniqueChroot("acl-renew")
        let proxy = try TCPProxy(to: port)
        defer { proxy.stop() }
        let owner = try await HeliosStore.connect(servers: servers, chroot: chroot, security: .master(master))
        let agentA = try await HeliosStore.connect(servers: "127.0.0.1:\(proxy.port)", chroot: chroot,
                                                   sessionTimeout: .seconds(4), security: try agent("a"))
        try await agentA.registerHost("a", agentID: "id-a", info: info)
        proxy.pause()
        #expect(await eventually(timeout: .seconds(60)) { (try? await owner.isUp("a")) == false })
        proxy.resume()
        #expect(await eventually(timeout: .seconds(60)) { (try? await owner.isUp("a")) == true },
                "the renewed session could not create the host's UP node")
        try await agentA.setTaskStatus(running(job), host: "a")
        await agentA.close()
        await owner.close()
    }

    @Test func credentialsFilesAreCheckedAndNeverPrinted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zk-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterFile = directory.appendingPathComponent("master").path
        let agentFile = directory.appendingPathComponent("agent").path
        #expect(FileManager.default.createFile(atPath: masterFile, contents: Data((master.line + "\n").utf8),
                                               attributes: [.posixPermissions: 0o600]))
        #expect(FileManager.default.createFile(atPath: agentFile, contents: Data(try StoreSecurity.agentFile(host: "a", master: master).utf8),
                                               attributes: [.posixPermissions: 0o644]))
        guard case .master(let loaded) = try StoreSecurity.load(masterFile) else { Issue.record("not a master's"); return }
        #expect(loaded == master)
        #expect(!"\(loaded)".contains(master.password) && !"\(loaded.credential)".contains(master.password))
        // Readable by others: refused, with the fix.
        #expect(throws: CredentialsError.self) { try StoreSecurity.load(agentFile, host: "a") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: agentFile)
        guard case .agent(_, let shared, let own) = try StoreSecurity.load(agentFile, host: "a") else { Issue.record("not an agent's"); return }
        #expect(shared.user == "helios-agents" && own.user == "agent-a")
        // Another host's name does not fit the file.
        #expect(throws: CredentialsError.self) { try StoreSecurity.load(agentFile, host: "b") }
        // An agent's file does not give the master's password or id away.
        let text = try String(contentsOfFile: agentFile, encoding: .utf8)
        #expect(!text.contains(master.password))
    }
}

