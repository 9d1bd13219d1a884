import Foundation
import HeliosManifests
import HeliosModel
import HeliosPlanner
import HeliosStore
import Hummingbird
import Logging

/// What `helios apply --master` and `helios plan --master` send: the manifests themselves, so
/// the master loads them with the same diagnostics and plans against the cluster as it is now.
public struct ApplyRequest: Codable, Sendable {
    public struct File: Codable, Sendable {
        public let path: String
        public let content: String

        public init(path: String, content: String) {
            self.path = path
            self.content = content
        }

        /// A manifest file as it travels.
        public init(_ file: ManifestFile) {
            self.init(path: file.path, content: String(decoding: file.content, as: UTF8.self))
        }
    }

    public var files: [File]
    /// A plan saved by `helios plan --master URL --format json --out FILE`: applied only while the
    /// cluster is at its check index and planning again gives the same writes (409 otherwise).
    public var savedPlan: PlanDocument?
    /// Apply to a git-driven cluster anyway (it is then drift from git).
    public var force: Bool

    public init(files: [File], savedPlan: PlanDocument? = nil, force: Bool = false) {
        self.files = files
        self.savedPlan = savedPlan
        self.force = force
    }
}

/// `POST /v1/plan` and `/v1/apply`'s reply: the plan as data, as people read it, and the
/// ZooKeeper writes it makes (made by the code that applies it).
public struct ApplyReply: Codable, Sendable {
    public let applied: Bool
    public let checkIndex: Int32
    public let plan: PlanDocument
    public let text: String
    /// The operations of the transaction that applies it, as `helios apply --dry-run` prints them.
    public let writes: [String]
    /// The deployments whose rollout the apply started.
    public var rollouts: [String]

    init(_ plan: Plan, to snapshot: ConfigSnapshot, applied: Bool) {
        self.applied = applied
        checkIndex = snapshot.checkIndex
        self.plan = PlanDocument(plan)
        text = PlanRenderer.text(plan, color: false)
        writes = plan.isEmpty ? [] : HeliosStore.operations(for: plan, to: snapshot).map(HeliosStore.describe)
        rollouts = plan.rollouts.filter { $0.state == .rollingOut }.map(\.deployment)
    }
}

extension MasterAPI {
    func addApply(to router: Router<MasterContext>) {
        router.post("/v1/plan") { request, context -> Response in
            let body = try await request.decode(as: ApplyRequest.self, context: context)
            do {
                let desired = try load(body)
                let snapshot = try await store.readCluster()
                return Self.json(ApplyReply(try plan(desired, against: snapshot, saved: body.savedPlan), to: snapshot, applied: false))
            } catch let refusal as ResponseRefusal {
                return refusal.response
            }
        }
        router.post("/v1/apply") { request, context -> Response in
            let body = try await request.decode(as: ApplyRequest.self, context: context)
            do {
                let desired = try load(body)
                let outcome = try await ClusterWriter(store: store, logger: Logger(label: "helios.api")).change { snapshot in
                    if !body.force, let record = snapshot.syncRecord {
                        throw ResponseRefusal(Self.error("this cluster follows git (\(record.repo)): change it with a commit, "
                                              + "or apply with --force (the change is then drift from git)", status: .conflict))
                    }
                    let planned = try plan(desired, against: snapshot, saved: body.savedPlan)
                    guard planned.errors.isEmpty else {
                        throw ResponseRefusal(Self.json(ApplyReply(planned, to: snapshot, applied: false), status: .unprocessableContent))
                    }
                    return .init(plan: planned)
                }
                let applied = outcome.decision.plan!
                if !applied.isEmpty {
                    let counts = applied.summary.counted
                    try? await store.appendAudit(AuditEntry(actor: context.principal, action: "apply" + (body.force ? " --force" : ""),
                        detail: "\(counts.add) added, \(counts.change) changed, \(counts.remove) removed, \(counts.replace) replaced"))
                }
                return Self.json(ApplyReply(applied, to: outcome.snapshot, applied: !applied.isEmpty))
            } catch let refusal as ResponseRefusal {
                return refusal.response
            } catch HeliosStoreError.stale {
                return Self.error("the cluster kept changing while the plan was applied; plan again", status: .conflict)
            }
        }
    }

    /// The manifests of a request, or the refusal with their diagnostics.
    private func load(_ body: ApplyRequest) throws -> DesiredState {
        let files = body.files.map { ManifestFile(path: $0.path, content: Data($0.content.utf8)) }
        switch ManifestLoader.load(files) {
        case .success(let loaded): return loaded
        case .failure(let error):
            throw ResponseRefusal(Self.json(["error": "the manifests are invalid; nothing planned",
                                             "diagnostics": error.description], status: .unprocessableContent))
        }
    }

    /// The plan of `desired` against `snapshot`; refused when it has errors, or when a saved plan
    /// is stale (the check index moved) or differs from it in content.
    private func plan(_ desired: DesiredState, against snapshot: ConfigSnapshot, saved: PlanDocument?) throws -> Plan {
        if let saved {
            guard let planned = saved.base.checkIndex else {
                throw ResponseRefusal(Self.error("the saved plan was not made against a cluster: save one with "
                                                 + "`helios plan --master URL --format json --out FILE`", status: .badRequest))
            }
            guard planned == snapshot.checkIndex else {
                throw ResponseRefusal(Self.error("the plan is stale: it was made at check index \(planned), the cluster is at "
                                                 + "\(snapshot.checkIndex); plan again", status: .conflict))
            }
        }
        let plan = Planner.plan(desired: desired, actual: snapshot.state,
                                base: PlanBase(kind: .cluster, revision: snapshot.state.revision, checkIndex: snapshot.checkIndex),
                                target: "cli", now: Date())
        if let saved, !PlanDocument(plan).hasSameContent(as: saved) {
            throw ResponseRefusal(Self.error("planning again does not give the saved plan's changes; plan again", status: .conflict))
        }
        return plan
    }
}

/// A response that refuses a request (an `Error`, to travel out of a decision).
struct ResponseRefusal: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}

/// The master's request context: a manifest set as large as a repository may be
/// (`ManifestLoader.maxRepositoryBytes`) fits in one request, with room for JSON's escapes.
struct MasterContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    var maxUploadSize: Int { 2 * ManifestLoader.maxRepositoryBytes }
    /// Who the request is from, for the audit log: `token NAME`, a signed webhook, or loopback.
    var principal = "loopback (no tokens)"
    /// What the request may do: every scope on an open master, a token's, or read when anonymous reads are on.
    var scopes: Set<APIScope> = Set(APIScope.allCases)
    /// The token the request came with (a header or the dashboard's cookie).
    var sessionToken: String?
}
