import ArgumentParser
import Foundation
import Git
import HeliosManifests
import HeliosModel
import HeliosPlanner

/// What `plan` and `apply --dry-run` plan: a manifest directory against a base.
struct PlanOptions: ParsableArguments {
    @Argument(help: "The manifest directory (a git work tree or a folder in one).")
    var directory = "."

    @Option(help: "The git revision to plan against (default: the upstream branch, else HEAD).")
    var base: String?

    @Option(help: "A cluster snapshot to plan against (the JSON of `helios state pull` / GET /v1/state).")
    var state: String?

    @Option(help: "Plan against the live cluster of this master, e.g. http://127.0.0.1:5801.")
    var master: String?

    func validate() throws {
        if [base, state, master].compactMap({ $0 }).count > 1 { throw ValidationError("give one of --base, --state and --master") }
    }

    /// The manifest files of `directory`.
    func files() throws -> [ManifestFile] {
        try ManifestSource.directory(directory)
    }

    /// Loads the desired state and the base, and plans. Manifest errors are printed and exit 1.
    func makePlan() async throws -> (plan: Plan, base: ClusterState) {
        let files = try files()
        let desired: DesiredState
        let (result, warnings) = ManifestLoader.check(files, now: Date())
        for warning in warnings { Output.error(warning.description) }
        switch result {
        case .success(let state): desired = state
        case .failure(let error):
            Output.error(error.description)
            throw ExitCode.failure
        }
        var (actual, planBase, target) = try await loadBase(workingFiles: files)
        if planBase.kind == .git || planBase.kind == .empty {
            // Offline, no host is known: the hosts the manifests name are taken to be UP.
            actual.hosts.merge(Planner.namedHosts(of: desired)) { known, _ in known }
        }
        return (Planner.plan(desired: desired, actual: actual, base: planBase, target: target, now: Date()), actual)
    }

    private func loadBase(workingFiles: [ManifestFile]) async throws -> (ClusterState, PlanBase, String) {
        if let master {
            let client = MasterClient(base: master)
            let snapshot = try client.decode(ClusterState.self, try await client.get("/v1/state"))
            return (snapshot, PlanBase(kind: .cluster, revision: snapshot.revision, checkIndex: snapshot.checkIndex),
                    "working tree")
        }
        if let state {
            let snapshot: ClusterState
            do {
                snapshot = try CanonicalJSON.decode(ClusterState.self, from: Data(contentsOf: URL(fileURLWithPath: state)))
            } catch {
                throw ValidationError("cannot read the state snapshot \(state): \(error)")
            }
            return (snapshot, PlanBase(kind: .state, revision: snapshot.revision, checkIndex: snapshot.checkIndex),
                    "working tree")
        }
        let repository = try GitRepository.discover(from: directory)
        guard let root = repository.workTree else { throw ValidationError("\(directory) is not in a git work tree") }
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
        let subpath = absolute == rootPath ? "" : String(absolute.dropFirst(rootPath.count + 1))

        let head = repository.resolveIfPresent("HEAD")
        let target = head.flatMap { head in
            (try? ManifestSource.commit(head, in: repository, subpath: subpath)) == workingFiles ? head.hex : nil
        } ?? "working tree"

        let revision: ObjectID
        let branch: String?
        if let base {
            guard let resolved = repository.resolveIfPresent(base) else {
                throw ValidationError("--base \(base) names no commit in \(rootPath)")
            }
            (revision, branch) = (resolved, base)
        } else if let upstream = repository.resolveIfPresent("@{upstream}") {
            (revision, branch) = (upstream, "upstream")
        } else if let head {
            (revision, branch) = (head, "HEAD")
        } else {
            return (ClusterState(), PlanBase(kind: .empty), target)
        }
        let baseFiles = try ManifestSource.commit(revision, in: repository, subpath: subpath)
        switch ManifestLoader.load(baseFiles) {
        case .success(let declared):
            return (Planner.cluster(declaring: declared), PlanBase(kind: .git, revision: revision.hex, branch: branch), target)
        case .failure(let error):
            Output.error("the base revision \(revision.short) has invalid manifests:\n\(error)")
            throw ExitCode.failure
        }
    }
}

/// How the CLI prints.
enum Output {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Colour only on a terminal, never with NO_COLOR.
    static var colorAllowed: Bool {
        isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }
}
