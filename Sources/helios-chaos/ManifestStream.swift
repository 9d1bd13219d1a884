import Foundation
import HeliosTestSupport

/// The manifest repository the chaos run keeps committing to: version bumps of deployments on
/// every host, deployments added and removed on one host, and now and then a broken manifest
/// (which the masters must refuse, applying nothing, until a later commit removes it).
struct ManifestStream {
    enum Change: String, CaseIterable {
        case bump, add, remove, broken
    }

    struct Deployment {
        var version: Int
        /// nil: every host (`role=chaos`), rolled out one at a time.
        var host: String?
    }

    let hosts: [String]
    let image: String
    private(set) var deployments: [String: Deployment] = [
        "web": Deployment(version: 1), "api": Deployment(version: 1), "worker": Deployment(version: 1),
    ]
    private var nextExtra = 1
    private(set) var broken = false
    /// The last commit whose manifests are valid: what the cluster must end up applying.
    private(set) var lastValidCommit: String?
    private(set) var head: String?

    init(hosts: [String], image: String) {
        self.hosts = hosts
        self.image = image
    }

    /// The first commit: every deployment at version 1.
    mutating func seed(_ git: GitFixture) throws {
        var files: [String: String?] = [:]
        for (name, deployment) in deployments { files["deployments/\(name).yaml"] = render(name, deployment) }
        let commit = try git.commit(files, message: "chaos: first deployments")
        head = commit
        lastValidCommit = commit
    }

    /// Commits one random change; returns what it was.
    mutating func commitRandomChange(_ git: GitFixture, using random: inout some RandomNumberGenerator) throws -> String {
        var files: [String: String?] = [:]
        if broken {
            files["deployments/broken.yaml"] = .some(nil) // a fix always comes next
            broken = false
        }
        let extras = deployments.filter { $0.value.host != nil }.keys.sorted()
        var change = Change.allCases.randomElement(using: &random)!
        if change == .remove && extras.isEmpty || change == .add && extras.count >= 2 { change = .bump }
        if change == .broken && !files.isEmpty { change = .bump }
        let description: String
        switch change {
        case .bump:
            let name = deployments.keys.sorted().randomElement(using: &random)!
            deployments[name]!.version += 1
            files["deployments/\(name).yaml"] = render(name, deployments[name]!)
            description = "bump \(name) to \(deployments[name]!.version)"
        case .add:
            let name = "extra-\(nextExtra)"
            nextExtra += 1
            deployments[name] = Deployment(version: 1, host: hosts.randomElement(using: &random)!)
            files["deployments/\(name).yaml"] = render(name, deployments[name]!)
            description = "add \(name) on \(deployments[name]!.host!)"
        case .remove:
            let name = extras.randomElement(using: &random)!
            deployments[name] = nil
            files["deployments/\(name).yaml"] = .some(nil)
            description = "remove \(name)"
        case .broken:
            files["deployments/broken.yaml"] = "kind: Job\nname: broken\nversion: [1\n"
            broken = true
            description = "commit a broken manifest"
        }
        let commit = try git.commit(files, message: "chaos: \(description)")
        head = commit
        if !broken { lastValidCommit = commit }
        return description
    }

    private func render(_ name: String, _ deployment: Deployment) -> String {
        let placement = deployment.host.map { "hosts: [\($0)]" }
            ?? "hostSelector: [\"role=chaos\"]\nrollout: { parallelism: 1, minHealthy: 1s, timeout: 3m }"
        return """
            kind: Job
            name: \(name)
            version: "\(deployment.version)"
            image: \(image)
            command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
            env: { VERSION: "\(deployment.version)" }
            stopTimeout: 2s
            ---
            kind: Deployment
            name: \(name)
            job: \(name)
            \(placement)

            """
    }
}
