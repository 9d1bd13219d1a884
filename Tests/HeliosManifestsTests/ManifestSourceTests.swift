import Foundation
import Git
import HeliosManifests
import HeliosTestSupport
import Testing

struct ManifestSourceTests {
    @Test func aDirectoryAndItsCommitGiveTheSameFilesAndState() async throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        try fixture.commit([
            "jobs/web.yaml": "kind: Job\nname: web\nversion: '1'\nimage: busybox\n",
            "deployments/web.yml": "kind: Deployment\nname: web\njob: web\nhosts: [a]\n",
            "README.md": "not a manifest\n",
            ".hidden/x.yaml": "kind: Job\n",
        ])
        let fromDirectory = try ManifestSource.directory(fixture.workTree)
        let repository = try GitRepository.open(at: fixture.remote)
        let fromCommit = try ManifestSource.commit(try repository.resolve("main"), in: repository)

        #expect(fromDirectory.map(\.path) == ["deployments/web.yml", "jobs/web.yaml"])
        #expect(fromDirectory == fromCommit)
        #expect(try ManifestLoader.load(fromDirectory).get() == ManifestLoader.load(fromCommit).get())
    }

    /// A symbolic link is no manifest from either source: from a commit its blob is the
    /// target's path, which was parsed as YAML and refused the commit the CLI had passed.
    @Test func aSymbolicLinkIsSkippedInTheWorkTreeAndInACommit() throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let job = "kind: Job\nname: web\nversion: '1'\nimage: busybox\n"
        let first = try fixture.commit(["shared/web.yaml": job])
        try FileManager.default.createSymbolicLink(atPath: fixture.workTree + "/link.yaml", withDestinationPath: "shared/web.yaml")
        let second = try fixture.commit([:], message: "link")
        let repository = try GitRepository.open(at: fixture.remote)
        let fromCommit = try ManifestSource.commit(try repository.resolve(second), in: repository)
        #expect(fromCommit.map(\.path) == ["shared/web.yaml"])
        #expect(try ManifestSource.directory(fixture.workTree) == fromCommit)
        #expect(try ManifestSource.walk(fixture.workTree).symlinks == ["link.yaml"])
        #expect(try ManifestSource.changes(from: repository.resolve(first), to: repository.resolve(second), in: repository)
            == ManifestChanges())
        #expect(throws: Never.self) { try ManifestLoader.load(fromCommit).get() }
    }

    @Test func aCommitsChangesReadOnlyTheManifestsItTouched() throws {
        let fixture = try GitFixture()
        defer { fixture.remove() }
        let first = try fixture.commit([
            "manifests/web.yaml": "kind: Job\nname: web\nversion: '1'\nimage: busybox\n",
            "manifests/old.yaml": "kind: Job\nname: old\nversion: '1'\nimage: busybox\n",
            "manifests/.hidden/x.yaml": "a\n", "README.md": "a\n", "other/x.yaml": "a\n",
        ])
        let second = try fixture.commit([
            "manifests/web.yaml": "kind: Job\nname: web\nversion: '2'\nimage: busybox\n", "manifests/old.yaml": nil,
            "manifests/.hidden/x.yaml": "b\n", "README.md": "b\n", "other/x.yaml": "b\n",
        ])
        let repository = try GitRepository.open(at: fixture.remote)
        let old = try repository.resolve(first), new = try repository.resolve(second)
        let changes = try ManifestSource.changes(from: old, to: new, in: repository, subpath: "manifests")
        #expect(changes.removed == ["old.yaml"])
        #expect(changes.changed.map(\.path) == ["web.yaml"])
        // The same file as reading the whole commit gives.
        #expect(changes.changed == (try ManifestSource.commit(new, in: repository, subpath: "manifests")))
    }
}
