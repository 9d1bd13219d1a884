import Foundation
import HeliosModel
import HeliosStore
import Hummingbird

/// The master's HTTP API (DESIGN.md §7): the walking skeleton serves health and the sync record.
struct MasterAPI: Sendable {
    let store: HeliosStore

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/v1/sync") { _, _ -> Response in
            guard let record = try await store.syncRecord() else {
                return Self.json(["error": "the master has not synced yet"], status: .notFound)
            }
            return Self.json(record)
        }
        return router
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(data: CanonicalJSON.encode(value))))
    }
}
