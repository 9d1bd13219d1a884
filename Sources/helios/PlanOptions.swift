import HeliosAgentCommand
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

    @Option(help: """
        The git revision to plan against: its merge-base with HEAD, as a pull request is \
        compared (default: the upstream branch, else origin/HEAD, origin/main, main).
        """)
    var base: String?

    @Option(help: "A cluster snapshot to plan against (the JSON of `helios state pull` / GET /v1/state).")
    var state: String?

    @Option(help: "Plan against the live cluster of this master, e.g. 127.0.0.1:5801 (default: $HELIOS_MASTER when no other base is given).")
    var master: String?

    @Flag(help: "In a git work tree, also plan untracked and ignored manifests (the master reads only committed ones).")
    var untracked = false

    /// With --master: its token and CA file.
    @OptionGroup var credentials: MasterCredentials

    /// The master's API at `master`, with the token.
    func client(_ master: String) throws -> MasterClient {
        try credentials.client(master)
    }

    @Flag(help: "No colour, even on a terminal (as a non-empty NO_COLOR or TERM=dumb).")
    var noColor = false

    var color: Bool { !noColor && Output.colorAllowed }

    func validate() throws {
        if [base, state, master].compactMap({ $0 }).count > 1 { throw ValidationError("give one of --base, --state and --master") }
    }

    /// Loads the desired state and the base, and plans. Invalid manifests give a plan that
    /// carries their diagnostics as errors (so every format shows them) and no changes.
    func makePlan() async throws -> (plan: Plan, base: ClusterState, diagnostics: [Diagnostic]) {
        let input = try ManifestInput(directory, includeUntracked: untracked)
        let (desired, diagnostics) = input.load()
        var (actual, planBase, target, baseWarnings) = try await loadBase(input)
        baseWarnings = input.notes + baseWarnings
        guard let desired else {
            let plan = Plan(base: planBase, target: target, changes: [], tasks: [], warnings: baseWarnings,
                            errors: diagnostics.filter { $0.severity == .error }.map(\.description))
            return (plan, actual, diagnostics)
        }
        if planBase.kind == .git || planBase.kind == .empty {
            // Offline, no host is known: the hosts the manifests name are taken to be UP.
            actual.hosts.merge(Planner.namedHosts(of: desired)) { known, _ in known }
        }
        var plan = Planner.plan(desired: desired, actual: actual, base: planBase, target: target, now: Date())
        plan.warnings = baseWarnings + diagnostics.map(\.description) + plan.warnings
        return (plan, actual, diagnostics)
    }

    private func loadBase(_ input: ManifestInput) async throws -> (ClusterState, PlanBase, String, [String]) {
        if let master = master ?? (base == nil && state == nil ? MasterOptions.environmentMaster : nil) {
            let client = try client(master)
            let snapshot = try client.decode(ClusterState.self, try await client.get("/v1/state"))
            return (snapshot, PlanBase(kind: .cluster, revision: snapshot.revision, checkIndex: snapshot.checkIndex),
                    "working tree", [])
        }
        if let state {
            guard FileManager.default.fileExists(atPath: state) else {
                throw CLIError("cannot read the state snapshot \(state): no such file or directory",
                               hint: "save one with `helios state pull --master HOST:PORT > FILE`")
            }
            let snapshot: ClusterState
            do {
                snapshot = try CanonicalJSON.decode(ClusterState.self, from: Data(contentsOf: URL(fileURLWithPath: state)))
            } catch {
                throw CLIError("cannot read the state snapshot \(state): \(CLIError.explaining(error).message)",
                               hint: "save one with `helios state pull --master HOST:PORT > FILE`")
            }
            return (snapshot, PlanBase(kind: .state, revision: snapshot.revision, checkIndex: snapshot.checkIndex),
                    "working tree", [])
        }
        guard let workTree = input.workTree else {
            if (try? GitRepository.discover(from: directory)) != nil {
                throw CLIError("\(directory) is in a bare repository: give a work tree")
            }
            throw CLIError("\(directory) is not in a git repository, so there is no revision to plan against",
                           hint: "run it in a clone of the manifest repository, or plan against --state FILE or --master HOST:PORT")
        }
        let (repository, rootPath, subpath) = (workTree.repository, workTree.root, workTree.subpath)

        let head = repository.resolveIfPresent("HEAD")
        let target = head.flatMap { head in
            (try? ManifestSource.commit(head, in: repository, subpath: subpath)) == input.files ? head.hex : nil
        } ?? "working tree" + (input.selection.map { " (\($0))" } ?? "")

        guard let (name, tip) = try baseRevision(in: repository, root: rootPath) else {
            return (ClusterState(), PlanBase(kind: .empty), target,
                    ["no base branch found (no upstream, origin/HEAD, origin/main or main): planned against an empty cluster"])
        }
        // A pull request is compared with where it left its base, not with the base's tip:
        // changes made on the base since do not show as reverts.
        let (revision, label): (ObjectID, String)
        if let head, let mergeBase = try repository.mergeBase(head, tip) {
            (revision, label) = (mergeBase, mergeBase == tip ? name : "merge-base of \(name)")
        } else {
            (revision, label) = (tip, name)
        }
        let baseFiles = try ManifestSource.commit(revision, in: repository, subpath: subpath)
        switch ManifestLoader.load(baseFiles) {
        case .success(let declared):
            return (Planner.cluster(declaring: declared), PlanBase(kind: .git, revision: revision.hex, branch: label), target, [])
        case .failure(let error):
            // A broken base must not block the commit that fixes it.
            let warnings = ["the base \(revision.short) (\(label)) has invalid manifests: planned against an empty cluster"]
                + error.diagnostics.map { input.shown($0).description }
            return (ClusterState(), PlanBase(kind: .empty), target, warnings)
        }
    }

    /// The branch to compare with and its tip: `--base`, else the upstream, `origin/HEAD`,
    /// `origin/main`, `main`; nil when there is none (a new repository).
    private func baseRevision(in repository: GitRepository, root: String) throws -> (String, ObjectID)? {
        if let base {
            guard let resolved = repository.resolveIfPresent(base) else {
                let branch = base.hasPrefix("origin/") ? String(base.dropFirst("origin/".count)) : base
                throw CLIError("--base \(base) names no commit in \(root)",
                               hint: base.hasPrefix("origin/")
                                   ? "fetch it first: git fetch origin \(branch):refs/remotes/origin/\(branch) (a shallow or single-branch clone lacks it)"
                                   : "give a branch, tag or commit id this clone has (git branch -a lists them)")
            }
            return (base, resolved)
        }
        for candidate in ["@{upstream}", "origin/HEAD", "origin/main", "main"] {
            if let resolved = repository.resolveIfPresent(candidate) {
                return (candidate == "@{upstream}" ? "upstream" : candidate, resolved)
            }
        }
        return nil
    }
}
