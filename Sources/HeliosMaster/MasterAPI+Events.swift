import Foundation
import HeliosModel
import HeliosStore
import Hummingbird

/// `GET /v1/events`: server-sent events — `sync` when the sync record changes, `rollout` when a
/// deployment's rollout moves — each `data:` the JSON `/v1/sync` or the rollout would serve.
/// What is current is sent first; a comment every 15 s keeps proxies from closing the stream.
extension MasterAPI {
    static let eventInterval: Duration = .milliseconds(250)

    func addEvents(to router: Router<MasterContext>) {
        router.get("/v1/events") { _, _ -> Response in
            let store = self.store
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    var lastSync: Data?
                    var lastRollouts: [String: Data] = [:]
                    var quiet = ContinuousClock.now
                    while !Task.isCancelled {
                        var events = ""
                        if let record = try await store.syncRecord() {
                            let data = CanonicalJSON.encode(record)
                            if data != lastSync { events += Self.event("sync", data) }
                            lastSync = data
                        }
                        for rollout in try await store.rolloutStatuses().values {
                            let data = CanonicalJSON.encode(rollout)
                            if lastRollouts[rollout.deployment] != data { events += Self.event("rollout", data) }
                            lastRollouts[rollout.deployment] = data
                        }
                        if events.isEmpty && ContinuousClock.now - quiet > .seconds(15) { events = ": still here\n\n" }
                        if !events.isEmpty {
                            try await writer.write(ByteBuffer(string: events))
                            quiet = .now
                        }
                        try await Task.sleep(for: Self.eventInterval)
                    }
                    try await writer.finish(nil)
                })
        }
    }

    static func event(_ name: String, _ data: Data) -> String {
        "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
    }
}
