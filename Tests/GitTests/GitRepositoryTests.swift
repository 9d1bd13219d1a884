import Foundation
import Git
import HeliosTestSupport
import Testing

struct GitRepositoryTests {
    @Test func aRemoteThatStallsFailsTheFetchWithinItsTimeoutAndTheMirrorStaysUsable() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let head = try fixture.commit(["a.yaml": "a\n"])
        let server = try StallingServer()
        defer { server.stop() }
        let mirror = try GitRepository.mirror(of: server.url, at: fixture.directory.path + "/mirror.git")
        let start = ContinuousClock.now
        await #expect {
            _ = try await mirror.fetch(branch: "main", timeout: .seconds(2))
        } throws: { error in
            (error as? GitError)?.isTimeout == true
        }
        #expect(ContinuousClock.now - start < .seconds(30), "the fetch was not bounded")
        // The repository is not held by the stalled fetch: it reads, and fetches from a remote that answers.
        #expect(mirror.resolveIfPresent("refs/remotes/origin/main") == nil)
        let working = try GitRepository.mirror(of: fixture.remote, at: fixture.directory.path + "/mirror.git")
        #expect(try await working.fetch(branch: "main", timeout: .seconds(30)).hex == head)
    }

    @Test func manyBlobsReadOnEveryCoreComeBackInOrder() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        var files: [String: String?] = [:]
        for index in 0..<600 { files["jobs/job-\(index).yaml"] = "index: \(index)\n" + String(repeating: "x", count: index) }
        try fixture.commit(files)
        let mirror = try GitRepository.mirror(of: fixture.remote, at: fixture.directory.path + "/mirror.git")
        let head = try await mirror.fetch(branch: "main")
        let tree = try mirror.files(at: head)
        let contents = try mirror.blobs(tree.map(\.blob))
        #expect(contents.count == 600)
        for (file, content) in zip(tree, contents) {
            #expect(content == (try mirror.blob(file.blob)), "\(file.path)")
            #expect(String(decoding: content, as: UTF8.self) == files[file.path]!, "\(file.path)")
        }
        // One that is not there fails the whole read.
        var ids = tree.map(\.blob)
        ids[300] = try #require(ObjectID(hex: String(repeating: "0", count: 40)))
        #expect(throws: GitError.self) { try mirror.blobs(ids) }
    }

    @Test func fetchReturnsTheBranchHeadAndReadsTheTreeWithoutCheckout() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let first = try fixture.commit(["jobs/web.yaml": "kind: Job\n", "README.md": "hello\n"])

        let mirror = try GitRepository.mirror(of: fixture.remote, at: fixture.directory.path + "/mirror.git")
        let head = try await mirror.fetch(branch: "main")
        #expect(head.hex == first)

        let files = try mirror.files(at: head)
        #expect(files.map(\.path) == ["README.md", "jobs/web.yaml"])
        #expect(String(decoding: try mirror.blob(files[1].blob), as: UTF8.self) == "kind: Job\n")
        // A bare mirror has no work tree: nothing was checked out.
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/mirror.git/jobs"))
    }

    @Test func fetchSeesNewCommitsAndDeletions() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        try fixture.commit(["a.yaml": "a\n", "b.yaml": "b\n"])
        let mirror = try GitRepository.mirror(of: fixture.remote, at: fixture.directory.path + "/mirror.git")
        let before = try await mirror.fetch(branch: "main")

        let second = try fixture.commit(["b.yaml": nil, "a.yaml": "a2\n"])
        let after = try await mirror.fetch(branch: "main")
        #expect(after.hex == second)
        #expect(after != before)
        let files = try mirror.files(at: after)
        #expect(files.map(\.path) == ["a.yaml"])
        // The old commit's tree is still readable: blobs are addressed by content.
        #expect(try mirror.files(at: before).count == 2)
        #expect(try mirror.resolve("origin/main") == after)
    }

    @Test func changesBetweenCommitsNameEveryChangedFileOnce() throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let first = try fixture.commit([
            "a.yaml": "a\n", "jobs/b.yaml": "b\n", "jobs/c.yaml": "c\n", "deep/x/y.yaml": "y\n", "same.yaml": "s\n",
        ])
        let second = try fixture.commit([
            "a.yaml": "a2\n", "jobs/b.yaml": nil, "jobs/d.yaml": "d\n", "deep/x/y.yaml": nil, "deep/x/z.yaml": "y\n",
        ])
        let repository = try GitRepository.open(at: fixture.remote)
        let (old, new) = (try #require(ObjectID(hex: first)), try #require(ObjectID(hex: second)))
        let changes = try repository.changes(from: old, to: new)
        #expect(changes.map(\.path) == ["a.yaml", "deep/x/y.yaml", "deep/x/z.yaml", "jobs/b.yaml", "jobs/d.yaml"])
        let byPath = Dictionary(uniqueKeysWithValues: changes.map { ($0.path, $0) })
        #expect(byPath["a.yaml"]?.old != nil && byPath["a.yaml"]?.new != nil)
        #expect(byPath["jobs/b.yaml"]?.new == nil && byPath["deep/x/y.yaml"]?.new == nil)
        #expect(byPath["jobs/d.yaml"]?.old == nil)
        // A rename is a removal and an addition of the same blob.
        #expect(byPath["deep/x/z.yaml"]?.new == byPath["deep/x/y.yaml"]?.old)
        #expect(String(decoding: try repository.blob(try #require(byPath["a.yaml"]?.new)), as: UTF8.self) == "a2\n")
        #expect(try repository.changes(from: new, to: new).isEmpty)
        // Backwards is the mirror image.
        #expect(try repository.changes(from: new, to: old).map(\.path) == changes.map(\.path))
    }

    @Test func reopeningTheMirrorKeepsItAndFollowsANewURL() async throws {
        let one = try GitFixture()
        let two = try GitFixture()
        defer { one.remove(); two.remove() }
        try one.commit(["x.yaml": "one\n"])
        let twoHead = try two.commit(["x.yaml": "two\n"])
        let path = one.directory.path + "/mirror.git"
        _ = try await GitRepository.mirror(of: one.remote, at: path).fetch(branch: "main")
        let moved = try await GitRepository.mirror(of: two.remote, at: path).fetch(branch: "main")
        #expect(moved.hex == twoHead)
    }

    @Test func missingBranchAndMissingRemoteGiveGitErrors() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        try fixture.commit(["a.yaml": "a\n"])
        let mirror = try GitRepository.mirror(of: fixture.remote, at: fixture.directory.path + "/mirror.git")
        let noBranch = await #expect(throws: GitError.self) { try await mirror.fetch(branch: "nope") }
        #expect(noBranch?.operation.contains("nope") == true)

        let nowhere = try GitRepository.mirror(of: fixture.directory.path + "/absent.git",
                                               at: fixture.directory.path + "/other.git")
        let noRemote = await #expect(throws: GitError.self) { try await nowhere.fetch(branch: "main") }
        #expect(noRemote?.message.isEmpty == false)
    }

    /// An https-style remote behind a password (git's smart HTTP protocol on loopback): the
    /// credentials are offered once; none, or wrong ones, fail the fetch without looping.
    @Test func fetchSignsInWithAUserAndPasswordAndSkipsAnUnmovedBranch() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let first = try fixture.commit(["jobs/web.yaml": "kind: Job\n"])
        let server = try GitHTTPServer(serving: fixture.directory.path)
        defer { server.stop() }
        let mirror = try GitRepository.mirror(of: server.url("remote.git"), at: fixture.directory.path + "/mirror.git")

        await #expect(throws: GitError.self) { try await mirror.fetch(branch: "main") }
        await #expect(throws: GitError.self) {
            try await mirror.fetch(branch: "main", credentials: .userPassword(user: server.user, password: "wrong"))
        }
        let credentials = GitCredentials.userPassword(user: server.user, password: server.password)
        #expect(try await mirror.fetch(branch: "main", credentials: credentials).hex == first)
        let packs = { server.requests.filter { $0.hasPrefix("POST") && $0.hasSuffix(" 200") }.count }
        #expect(packs() == 1)

        // The branch has not moved: its refs are listed, nothing is fetched.
        #expect(try await mirror.fetch(branch: "main", credentials: credentials).hex == first)
        #expect(packs() == 1, "\(server.requests)")
        let second = try fixture.commit(["jobs/web.yaml": "kind: Job\nname: web\n"])
        #expect(try await mirror.fetch(branch: "main", credentials: credentials).hex == second)
        #expect(packs() == 2)
    }
}
