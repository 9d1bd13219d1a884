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
}
