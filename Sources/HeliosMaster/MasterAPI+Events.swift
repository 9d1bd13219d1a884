import Foundation
import Hummingbird

/// `GET /v1/events`: server-sent events — `sync` when the sync record changes, `rollout` when a
/// deployment's rollout moves — each `data:` the JSON `/v1/sync` or the rollout would serve.
/// What is current is sent first. Every subscriber reads one shared `EventFeed`.
extension MasterAPI {
    func addEvents(to router: Router<MasterContext>, from feed: EventFeed) {
        router.get("/v1/events") { _, _ -> Response in
            let events = await feed.subscribe()
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    for await text in events {
                        try await writer.write(ByteBuffer(string: text))
                    }
                    try await writer.finish(nil)
                })
        }
    }
}
