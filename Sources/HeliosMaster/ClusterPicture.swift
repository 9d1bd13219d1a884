import HeliosStore
import Synchronization

/// The cluster as this master's last write left it, whoever of the leader's loops wrote it (git
/// sync, the drift check, the rollout controller). The next write is decided on it instead of a
/// full read of ZooKeeper; the write's guard on the check index says whether it still holds (when
/// another writer came first, the writer reads the cluster again). Shared, so that a rollout step
/// does not leave the next commit to find its picture stale, nor a commit the rollout controller.
public final class ClusterPicture: Sendable {
    private let snapshot = Mutex<ConfigSnapshot?>(nil)

    public init() {}

    var current: ConfigSnapshot? { snapshot.withLock { $0 } }

    /// The cluster after a write: kept unless the picture already shows a later one.
    func keep(_ after: ConfigSnapshot) {
        snapshot.withLock { held in
            if let held, held.checkIndex > after.checkIndex { return }
            held = after
        }
    }

    /// Changes the picture in place, when there is one (a write that moves no check index: the sync record alone).
    func amend(_ change: (inout ConfigSnapshot) -> Void) {
        snapshot.withLock { held in
            guard var picture = held else { return }
            change(&picture)
            held = picture
        }
    }

    /// Nothing is known any more (a failed write, hosts changed): the next writer reads the cluster.
    func forget() {
        snapshot.withLock { $0 = nil }
    }
}
