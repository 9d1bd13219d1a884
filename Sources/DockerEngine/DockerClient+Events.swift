import Foundation

/// Something that happened to a Docker object, as `GET /events` streams it.
public struct DockerEvent: Sendable, Decodable, Equatable {
    public struct Actor: Sendable, Decodable, Equatable {
        public let id: String
        /// The object's labels, and for containers `name` and `image`.
        public let attributes: [String: String]

        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }

        public init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            id = try values.decodeIfPresent(String.self, forKey: .id) ?? ""
            attributes = try values.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        }
    }

    /// `container`, `image`, `network`, …
    public let type: String
    /// `create`, `start`, `die`, `kill`, `stop`, `destroy`, …
    public let action: String
    public let actor: Actor
    /// Nanoseconds since the epoch.
    public let timeNano: Int64

    enum CodingKeys: String, CodingKey { case type = "Type", action = "Action", actor = "Actor", timeNano }
}

extension DockerClient {
    /// Container events for containers carrying every label in `labels`, until the engine goes
    /// away (the stream then throws) or the reader stops iterating: from now on, or from `since`
    /// (the engine replays what it still holds of the events since then, so a reader that notes
    /// the time before it acts misses nothing while the stream opens).
    public func containerEvents(labels: [String] = [], since: Date? = nil) -> AsyncThrowingStream<DockerEvent, any Error> {
        AsyncThrowingStream { continuation in
            let listening = Task {
                do {
                    let filters = try JSONEncoder().encode(["type": ["container"], "label": labels])
                    var path = "/events?filters=\(Self.escape(String(decoding: filters, as: UTF8.self)))"
                    if let since { path += "&since=" + String(format: "%.6f", since.timeIntervalSince1970) }
                    let reply = try await stream("GET", path) { line in
                        if let event = try? JSONDecoder().decode(DockerEvent.self, from: line) { continuation.yield(event) }
                    }
                    guard reply.status == 200 else { throw error(reply, "follow events") }
                    continuation.finish(throwing: DockerError(status: 0, operation: "follow events", message: "the engine ended the stream"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in listening.cancel() }
        }
    }
}
