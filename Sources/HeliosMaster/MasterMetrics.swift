import Foundation
import HeliosModel
import Synchronization

/// What a master measures of itself, served as Prometheus text at `GET /metrics`.
public final class MasterMetrics: Sendable {
    struct Summary {
        var count = 0
        var sum = 0.0

        mutating func observe(_ seconds: Double) {
            count += 1
            sum += seconds
        }
    }

    struct Values {
        var leading = false
        var fetch = Summary()
        var sync = Summary()
        var syncs: [String: Int] = [:]
        var plan = (add: 0, change: 0, remove: 0)
        var zooKeeperLatency: Double?
        var drifts = 0
        var fetchFailing = false
        var fetchFailures = 0
    }

    private let values = Mutex(Values())

    public init() {}

    func leading(_ value: Bool) { values.withLock { $0.leading = value } }
    func fetched(in duration: Duration) {
        values.withLock {
            $0.fetch.observe(duration.seconds)
            $0.fetchFailing = false
        }
    }
    func fetchFailed() {
        values.withLock {
            $0.fetchFailing = true
            $0.fetchFailures += 1
        }
    }
    func synced(_ status: String, in duration: Duration) {
        values.withLock {
            $0.sync.observe(duration.seconds)
            $0.syncs[status, default: 0] += 1
        }
    }
    func planned(add: Int, change: Int, remove: Int) { values.withLock { $0.plan = (add, change, remove) } }
    func drifted() { values.withLock { $0.drifts += 1 } }
    func zooKeeperAnswered(in duration: Duration) { values.withLock { $0.zooKeeperLatency = duration.seconds } }

    /// The Prometheus text exposition format, version 0.0.4, with the deployments' rollouts as read now.
    func render(rollouts: [RolloutStatus] = [], clusterReads: Int = 0, requests: (reads: Int, writes: Int) = (0, 0)) -> String {
        let values = values.withLock { $0 }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(Self.format(sample.value))\n" }
        }
        func summary(_ name: String, _ help: String, _ summary: Summary) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) summary\n"
            text += "\(name)_sum \(Self.format(summary.sum))\n\(name)_count \(summary.count)\n"
        }
        metric("helios_master_leading", "gauge", "1 when this master leads (applies commits), else 0.",
               [("", values.leading ? 1 : 0)])
        summary("helios_git_fetch_duration_seconds", "Time to fetch the manifest repository.", values.fetch)
        metric("helios_git_fetch_failing", "gauge", "1 while the last fetch of the repository failed (or timed out), else 0.",
               [("", values.fetchFailing ? 1 : 0)])
        metric("helios_git_fetch_failures_total", "counter", "Fetches of the repository that failed or timed out.",
               [("", Double(values.fetchFailures))])
        summary("helios_sync_duration_seconds", "Time from fetched commit to applied plan (or refusal).", values.sync)
        metric("helios_syncs_total", "counter", "Commits synced, by outcome.",
               values.syncs.sorted { $0.key < $1.key }.map { ("{status=\"\($0.key)\"}", Double($0.value)) })
        metric("helios_plan_changes", "gauge", "Changes in the last plan applied, by kind.",
               [("{kind=\"add\"}", Double(values.plan.add)), ("{kind=\"change\"}", Double(values.plan.change)),
                ("{kind=\"remove\"}", Double(values.plan.remove))])
        let states: [RolloutStatus.State] = [.rollingOut, .done, .failed, .rolledBack, .superseded]
        metric("helios_rollouts", "gauge", "Deployments by the state of their last rollout.",
               states.map { state in ("{state=\"\(state.rawValue)\"}", Double(rollouts.filter { $0.state == state }.count)) })
        metric("helios_cluster_reads_total", "counter", "Reads of the whole cluster from ZooKeeper by this master.",
               [("", Double(clusterReads))])
        metric("helios_zookeeper_requests_total", "counter", "Requests this master sent to ZooKeeper (each operation of a transaction counts).",
               [("{kind=\"read\"}", Double(requests.reads)), ("{kind=\"write\"}", Double(requests.writes))])
        metric("helios_drift_total", "counter", "Times the cluster was found to differ from the revision applied.",
               [("", Double(values.drifts))])
        if let latency = values.zooKeeperLatency {
            metric("helios_zookeeper_latency_seconds", "gauge", "One ZooKeeper round trip, measured at this scrape.",
                   [("", latency)])
        }
        return text
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
