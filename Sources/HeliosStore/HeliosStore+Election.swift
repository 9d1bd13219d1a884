import Foundation
import ZooKeeper

/// One master's place in the leader election (`/masters/election/n_<token>-<seq>`, ephemeral
/// sequential): the lowest sequence number leads, the others wait for the node just before theirs to go.
public struct Candidacy: Sendable, Equatable {
    /// The node's name under `/masters/election`.
    public let name: String
    /// What the master wrote there: how to reach it.
    public let id: String
}

extension HeliosStore {
    /// Stands for election; the node holds `id` and goes with the session. A node of this store's
    /// already there — a create whose reply a connection loss swallowed, a withdrawal that never
    /// reached the server — is taken up again (extra ones deleted), so a master never stands twice
    /// and nobody waits behind a stale candidate of a live master.
    public func standForElection(id: String) async throws -> Candidacy {
        var wait: Duration = .milliseconds(100)
        while true {
            let own = try await children(Paths.election).filter { $0.hasPrefix(candidatePrefix) }.sorted(by: Self.electionOrder)
            if let first = own.first {
                for extra in own.dropFirst() { try? await session.delete(Paths.election + "/" + extra) }
                return Candidacy(name: first, id: id)
            }
            do {
                let path = try await session.create(Paths.election + "/" + candidatePrefix, data: Data(id.utf8),
                                                    mode: .ephemeralSequential)
                return Candidacy(name: String(path.split(separator: "/").last ?? ""), id: id)
            } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                // It may have been created: look again once the connection is back.
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(5))
            }
        }
    }

    /// Election order: by the sequence number ZooKeeper appended (the last ten digits),
    /// whatever precedes it.
    static func electionOrder(_ a: String, _ b: String) -> Bool {
        (a.suffix(10), a) < (b.suffix(10), b)
    }

    /// Returns once `candidacy` leads. Each candidate watches only the one just before it, so a
    /// leader's end wakes one master, not all. Throws `lostCandidacy` when its node is gone
    /// (the session expired): stand again.
    public func awaitLeadership(_ candidacy: Candidacy) async throws {
        let events = session.watchEvents()
        var iterator = events.makeAsyncIterator()
        while true {
            let names = try await children(Paths.election).sorted(by: Self.electionOrder)
            guard let index = names.firstIndex(of: candidacy.name) else { throw HeliosStoreError.lostCandidacy }
            if index == 0 { return }
            let predecessor = Paths.election + "/" + names[index - 1]
            guard try await session.exists(predecessor, watch: true) != nil else { continue }
            // Any event on it (deleted, or fired again after a session renewal) is a reason to look again.
            while let event = await iterator.next(), event.path != predecessor {}
            try Task.checkCancellation()
        }
    }

    /// Leaves the election (a leader stepping down, a master stopping). A delete lost to a
    /// connection loss is tried again a few times; one that never lands leaves the node to be
    /// taken up again by `standForElection` (or to go with the session).
    public func withdraw(_ candidacy: Candidacy) async {
        var wait: Duration = .milliseconds(100)
        for _ in 0..<5 {
            do {
                try await session.delete(Paths.election + "/" + candidacy.name)
                return
            } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                try? await Task.sleep(for: wait)
                wait *= 2
            } catch {
                return // gone already, or the session is: nothing of it stands
            }
        }
    }

    /// The candidates in order, the leader first.
    public func candidates() async throws -> [Candidacy] {
        let names = try await children(Paths.election).sorted(by: Self.electionOrder)
        var candidates: [Candidacy] = []
        for name in names {
            guard let data = try? await session.get(Paths.election + "/" + name).data else { continue } // gone meanwhile
            candidates.append(Candidacy(name: name, id: String(decoding: data, as: UTF8.self)))
        }
        return candidates
    }
}
