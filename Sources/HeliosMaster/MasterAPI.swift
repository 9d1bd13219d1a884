import Foundation
import HeliosModel
import HeliosStore
import Hummingbird

/// The master's HTTP API (DESIGN.md §7). Every master serves it; writes go through the leader.
struct MasterAPI: Sendable {
    let store: HeliosStore
    let leadership: Leadership
    var access = APIAccessPolicy()
    /// The dashboard's link to a repository browser for diagnostics (`--repo-browse-url`).
    var browseURL: String?
    /// Whether the API is served over TLS.
    var secure = false
    var metrics: MasterMetrics { leadership.metrics }

    func router() -> Router<MasterContext> {
        let router = Router(context: MasterContext.self)
        router.add(middleware: JSONErrors())
        router.add(middleware: AccessControl(policy: access))
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            if let roundTrip = await store.roundTrip() { metrics.zooKeeperAnswered(in: roundTrip) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.render(rollouts: Array(((try? await store.rolloutStatuses()) ?? [:]).values),
                                                                              clusterReads: store.clusterReads,
                                                                              requests: store.zooKeeperRequests))))
        }
        router.get("/v1/sync") { _, _ -> Response in
            guard let record = try await store.syncRecord() else {
                return Self.error("the master has not synced yet", status: .notFound)
            }
            return Self.json(record)
        }
        router.post("/v1/sync") { _, context -> Response in
            // Any master takes the webhook; the leader watches for it and syncs at once.
            try await store.requestSync()
            try? await store.appendAudit(AuditEntry(actor: context.principal, action: "sync requested", detail: ""))
            return Self.json(["status": "sync requested"], status: .accepted)
        }
        router.get("/v1/audit") { _, _ -> Response in
            Self.json(try await store.auditLog())
        }
        router.get("/v1/masters") { _, _ -> Response in
            let candidates = try await store.candidates()
            return Self.json(MastersReply(
                leading: leadership.isLeading,
                masters: candidates.enumerated().map { MastersReply.Master(id: $1.id, leader: $0 == 0) }))
        }
        addReads(to: router)
        addApply(to: router)
        addEvents(to: router, from: EventFeed(store: store))
        Dashboard(store: store, access: access, browse: browseURL, secure: secure).add(to: router)
        return router
    }

    /// `{"error": message}` with `status`.
    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        json(["error": message], status: status)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(data: CanonicalJSON.encode(value))))
    }
}

/// `GET /v1/masters`: the masters standing for election, the leader first.
struct MastersReply: Encodable {
    struct Master: Encodable {
        let id: String
        let leader: Bool
    }
    /// Whether the master that answers leads.
    let leading: Bool
    let masters: [Master]
}

/// Every failure as `{"error": …}`: an HTTP error with its status (413 for a body over the
/// limit), ZooKeeper unreachable as 503, anything else as 500.
struct JSONErrors: RouterMiddleware {
    func handle(_ request: Request, context: MasterContext,
                next: (Request, MasterContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return MasterAPI.error(error.body ?? "\(error.status)", status: error.status)
        } catch let error where HeliosStore.isUnavailable(error) {
            return MasterAPI.error("\(error)", status: .serviceUnavailable)
        } catch let error as any HTTPResponseError {
            // A body over the upload limit, and other errors that name their status.
            return MasterAPI.error(error.status == .contentTooLarge
                ? "the request is larger than the \(context.maxUploadSize >> 20) MiB this master takes" : "\(error.status)",
                status: error.status)
        } catch {
            return MasterAPI.error("\(error)", status: .internalServerError)
        }
    }
}
