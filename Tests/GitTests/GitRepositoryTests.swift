import Foundation
import Git
import HeliosTestSupport
import Testing

struct GitRepositoryTests {
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
}
