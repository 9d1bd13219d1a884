import Foundation
import ZooKeeper

/// One master's place in the leader election (`/masters/election/<seq>`, ephemeral sequential):
/// the lowest sequence number leads, the others wait for the node just before theirs to go.
public struct Candidacy: Sendable, Equatable {
    /// The node's name under `/masters/election`.
    public let name: String
    /// What the master wrote there: how to reach it.
    public let id: String
}

extension HeliosStore {
    /// Stands for election; the node holds `id` and goes with the session.
    public func standForElection(id: String) async throws -> Candidacy {
        let path = try await session.create(Paths.election + "/n_", data: Data(id.utf8), mode: .ephemeralSequential)
        return Candidacy(name: String(path.split(separator: "/").last ?? ""), id: id)
    }

    /// Returns once `candidacy` leads. Each candidate watches only the one just before it, so a
    /// leader's end wakes one master, not all. Throws `lostCandidacy` when its node is gone
    /// (the session expired): stand again.
    public func awaitLeadership(_ candidacy: Candidacy) async throws {
        let events = session.watchEvents()
        var iterator = events.makeAsyncIterator()
        while true {
            let names = try await children(Paths.election)
            guard let index = names.firstIndex(of: candidacy.name) else { throw HeliosStoreError.lostCandidacy }
            if index == 0 { return }
            let predecessor = Paths.election + "/" + names[index - 1]
            guard try await session.exists(predecessor, watch: true) != nil else { continue }
            // Any event on it (deleted, or fired again after a session renewal) is a reason to look again.
            while let event = await iterator.next(), event.path != predecessor {}
            try Task.checkCancellation()
        }
    }

    /// Leaves the election (a leader stepping down, a master stopping).
    public func withdraw(_ candidacy: Candidacy) async {
        try? await session.delete(Paths.election + "/" + candidacy.name)
    }

    /// The candidates in order, the leader first.
    public func candidates() async throws -> [Candidacy] {
        let names = try await children(Paths.election)
        var candidates: [Candidacy] = []
        for name in names {
            guard let data = try? await session.get(Paths.election + "/" + name).data else { continue } // gone meanwhile
            candidates.append(Candidacy(name: name, id: String(decoding: data, as: UTF8.self)))
        }
        return candidates
    }
}
