import Foundation
import HeliosManifests
import HeliosModel
import HeliosPlanner
import HeliosStore
import Hummingbird

/// What `helios apply --master` sends: the manifests themselves, so the master loads them with
/// the same diagnostics and plans against the cluster as it is now.
public struct ApplyRequest: Codable, Sendable {
    public struct File: Codable, Sendable {
        public let path: String
        public let content: String

        public init(path: String, content: String) {
            self.path = path
            self.content = content
        }
    }

    public var files: [File]
    /// The check index the client planned against (`--plan FILE`): stale → 409.
    public var checkIndex: Int32?
    /// The saved plan's JSON: applied only if planning again gives exactly it.
    public var expectedPlan: String?
    /// Apply to a git-driven cluster anyway (it is then drift from git).
    public var force: Bool

    public init(files: [File], checkIndex: Int32? = nil, expectedPlan: String? = nil, force: Bool = false) {
        self.files = files
        self.checkIndex = checkIndex
        self.expectedPlan = expectedPlan
        self.force = force
    }
}

/// `POST /v1/plan` and `/v1/apply`'s reply: the plan, as `helios plan --format json` and text print it.
public struct ApplyReply: Codable, Sendable {
    public let applied: Bool
    public let checkIndex: Int32
    public let plan: String
    public let text: String
    /// The deployments whose rollout the apply started.
    public var rollouts: [String] = []

    init(_ plan: Plan, at checkIndex: Int32, applied: Bool, rollouts: [String] = []) {
        self.applied = applied
        self.checkIndex = checkIndex
        self.plan = PlanRenderer.json(plan)
        text = PlanRenderer.text(plan, color: false)
        self.rollouts = rollouts
    }
}

extension MasterAPI {
    func addApply(to router: Router<BasicRequestContext>) {
        router.post("/v1/plan") { request, context -> Response in
            let body = try await request.decode(as: ApplyRequest.self, context: context)
            switch try await plan(body) {
            case .failure(let refusal): return refusal.response
            case .success(let (plan, snapshot)):
                return Self.json(ApplyReply(plan, at: snapshot.checkIndex, applied: false))
            }
        }
        router.post("/v1/apply") { request, context -> Response in
            let body = try await request.decode(as: ApplyRequest.self, context: context)
            if !body.force, let record = try await store.syncRecord() {
                return Self.error("this cluster follows git (\(record.repo)): change it with a commit, "
                                  + "or apply with --force (the change is then drift from git)", status: .conflict)
            }
            switch try await plan(body) {
            case .failure(let refusal): return refusal.response
            case .success(let (plan, snapshot)):
                guard plan.errors.isEmpty else {
                    return Self.json(ApplyReply(plan, at: snapshot.checkIndex, applied: false), status: .unprocessableContent)
                }
                let staged = RolloutStaging.stage(plan, now: Date(), revision: nil)
                do {
                    if !staged.isEmpty { try await store.apply(staged, to: snapshot) }
                } catch HeliosStoreError.stale {
                    return Self.error("the cluster changed while the plan was applied; plan again", status: .conflict)
                }
                return Self.json(ApplyReply(plan, at: snapshot.checkIndex, applied: !plan.isEmpty,
                                            rollouts: staged.rollouts.map(\.deployment)))
            }
        }
    }

    /// Loads the manifests and plans them against the cluster now; a refusal is the response to send.
    private func plan(_ body: ApplyRequest) async throws -> Result<(Plan, ConfigSnapshot), ResponseRefusal> {
        let files = body.files.map { ManifestFile(path: $0.path, content: Data($0.content.utf8)) }
        let desired: DesiredState
        switch ManifestLoader.load(files) {
        case .success(let loaded): desired = loaded
        case .failure(let error):
            return .failure(ResponseRefusal(Self.json(["error": "the manifests are invalid; nothing planned",
                                                       "diagnostics": error.description], status: .unprocessableContent)))
        }
        let snapshot = try await store.readConfig()
        if let expected = body.checkIndex, expected != snapshot.checkIndex {
            return .failure(ResponseRefusal(Self.error(
                "the plan is stale: it was made at check index \(expected), the cluster is at "
                    + "\(snapshot.checkIndex); plan again", status: .conflict)))
        }
        let plan = Planner.plan(desired: desired, actual: snapshot.state,
                                base: PlanBase(kind: .cluster, revision: snapshot.state.revision,
                                               checkIndex: snapshot.checkIndex),
                                target: "cli")
        if let expected = body.expectedPlan, expected != PlanRenderer.json(plan) {
            return .failure(ResponseRefusal(Self.error("planning again does not give the saved plan; plan again",
                                                       status: .conflict)))
        }
        return .success((plan, snapshot))
    }
}

/// A response that refuses a request (an `Error`, to travel in a `Result`).
struct ResponseRefusal: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
