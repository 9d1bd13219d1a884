import ArgumentParser
import Foundation
import HeliosMaster
import HeliosModel

/// `helios state pull`: the cluster snapshot, in the format `helios plan --state FILE` reads.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "The cluster snapshot.", subcommands: [Pull.self])

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cluster snapshot (GET /v1/state).")
        @OptionGroup var master: MasterOptions

        func run() async throws {
            Table.raw(try await master.client().get("/v1/state"))
        }
    }
}

/// `helios status [JOB]`: every task of the cluster (or of one job) and what its agent says.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Each task and its state.")
    @OptionGroup var master: MasterOptions
    @Argument(help: "Only this job (name, name:version or full id).") var job: String?

    func run() async throws {
        let client = try master.client()
        let data = try await client.get("/v1/hosts")
        let hosts = try client.decode([HostReply].self, data)
        var rows: [[String]] = []
        for host in hosts {
            for task in host.tasks where job.map({ task.jobId == $0 || task.jobId.hasPrefix($0 + ":") }) ?? true {
                let state = task.status.map { status in
                    status.state.rawValue + (status.throttled.map { " (\($0.rawValue))" } ?? "")
                } ?? "PENDING"
                rows.append([host.name + (host.up ? "" : " (down)"), task.jobId, task.deployment, task.goal, state,
                             task.status?.containerError ?? ""])
            }
        }
        if master.printsJSON { return Table.raw(data) }
        // What the last sync did and any rollout not done, above the tasks.
        if let record = try? client.decode(SyncRecord.self, try await client.get("/v1/sync")) {
            let applied = record.lastAppliedRevision.map { String($0.prefix(12)) } ?? "-"
            print("sync: \(record.status.rawValue) (\(record.reason.rawValue)) \(applied): \(record.summary)")
        }
        for deployment in try client.decode([DeploymentReply].self, try await client.get("/v1/deployments")) {
            guard let rollout = deployment.rollout, rollout.state == .rollingOut || rollout.hasFailed else { continue }
            print("rollout \(deployment.name): \(rollout.state.rawValue), batch \(rollout.batch + 1)/\(rollout.batches.count)"
                  + (rollout.error.map { " — \($0)" } ?? ""))
        }
        Table.print(["HOST", "JOB", "DEPLOYMENT", "GOAL", "STATE", "ERROR"], rows)
    }
}



/// `helios hosts`: the hosts, up or down, with their labels and task counts.
/// `helios audit`: who changed what, newest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Who changed the cluster, newest first.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        try await master.show("/v1/audit", as: [AuditEntry].self, header: ["AT", "ACTOR", "ACTION", "DETAIL"]) {
            $0.map { [$0.at.formatted(.iso8601), Printable.escape($0.actor, limit: 80), $0.action, Printable.escape($0.detail, limit: 120)] }
        }
    }
}

struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hosts", abstract: "The cluster's hosts.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        try await master.show("/v1/hosts", as: [HostReply].self, header: ["HOST", "STATUS", "TASKS", "RUNNING", "LABELS"]) {
            $0.map { host in
                [host.name, host.up ? "UP" : "DOWN", "\(host.tasks.count)",
                 "\(host.tasks.filter { $0.status?.state == .running }.count)",
                 host.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]
            }
        }
    }
}

/// `helios jobs`: the jobs and how many hosts run each.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "The cluster's jobs.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        try await master.show("/v1/jobs", as: [JobReply].self, header: ["JOB", "IMAGE", "HOSTS", "RUNNING"]) {
            $0.map { job in
                [job.id, job.job?.image ?? "", "\(job.hosts.count)", "\(job.hosts.values.filter { $0?.state == .running }.count)"]
            }
        }
    }
}

/// `helios deployments`: each deployment, its job and its hosts' states.
struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployments", abstract: "The cluster's deployments.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        try await master.show("/v1/deployments", as: [DeploymentReply].self, header: ["DEPLOYMENT", "JOB", "GOAL", "HOSTS"]) {
            $0.map { deployment in
                [deployment.name, deployment.deployment?.jobID.description ?? "", deployment.deployment?.goal.rawValue ?? "",
                 deployment.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")]
            }
        }
    }
}

/// `helios history JOB`: the job's task events on each host, oldest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "A job's task events per host.")
    @OptionGroup var master: MasterOptions
    @Argument(help: "The job id (name:version:hash).") var job: String

    func run() async throws {
        try await master.show("/v1/jobs/\(job)/history", as: [String: [TaskStatus]].self,
                              header: ["HOST", "AT", "STATE", "CONTAINER", "ERROR"]) { history in
            history.keys.sorted().flatMap { host in
                history[host]!.map { [host, $0.at?.formatted(.iso8601) ?? "-", $0.state.rawValue,
                                      String(($0.containerID ?? "").prefix(12)), $0.containerError ?? ""] }
            }
        }
    }
}

extension MasterOptions {
    /// GETs `path` from the master: its JSON as it is with `--json`, else a table of the rows
    /// `rows` makes of the decoded reply.
    func show<Reply: Decodable>(_ path: String, as type: Reply.Type, header: [String],
                                rows: (Reply) -> [[String]]) async throws {
        let client = try client()
        let data = try await client.get(path)
        if printsJSON { return Table.raw(data) }
        Table.print(header, rows(try client.decode(type, data)))
    }
}

/// Aligned columns for the views.
enum Table {
    static func print(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            Swift.print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }

    static func raw(_ data: Data) {
        FileHandle.standardOutput.write(data)
        Swift.print()
    }
}

/// `helios rollout status NAME [--watch]`: where a deployment's rollout stands, batch by batch.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Deployment rollouts.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where a deployment's rollout stands; exit 0 done, 1 failed or rolled back.")
        @OptionGroup var master: MasterOptions
        @Argument(help: "The deployment.") var name: String
        @Flag(help: "Follow it until it ends.") var watch = false

        func run() async throws {
            let client = try master.client()
            var shown = ""
            while true {
                let data = try await client.get("/v1/deployments/\(name)")
                let reply = try client.decode(DeploymentReply.self, data)
                if master.printsJSON {
                    Table.raw(data)
                } else {
                    let text = Self.render(reply)
                    if text != shown {
                        // On a terminal the display is redrawn in place; in a log each change is a new block.
                        if Output.colorAllowed && !shown.isEmpty {
                            print("\u{1B}[\(shown.split(separator: "\n", omittingEmptySubsequences: false).count - 1)A\u{1B}[J", terminator: "")
                        }
                        print(text, terminator: "")
                        shown = text
                    }
                }
                guard let rollout = reply.rollout, rollout.state == .rollingOut, watch else {
                    if reply.rollout?.hasFailed == true { throw ExitCode.failure }
                    return
                }
                try await Task.sleep(for: .seconds(1))
            }
        }

        static func render(_ reply: DeploymentReply) -> String {
            guard let rollout = reply.rollout else {
                return "\(reply.name): no rollout (job \(reply.deployment?.jobID.description ?? "?"))\n"
            }
            var text = "\(reply.name): \(rollout.state.rawValue) to \(rollout.jobID)"
                + (rollout.previousJobID.map { " from \($0)" } ?? "") + "\n"
            for (index, hosts) in rollout.batches.enumerated() {
                let marker = index < rollout.batch || rollout.state == .done ? "done"
                    : index == rollout.batch ? (rollout.state == .rollingOut ? "rolling" : rollout.state.rawValue.lowercased())
                    : "waiting"
                let states = hosts.map { "\($0) \(reply.hosts[$0] ?? "-")" }.joined(separator: ", ")
                text += "  batch \(index + 1)/\(rollout.batches.count) [\(marker)] \(states)\n"
            }
            if !rollout.skipped.isEmpty {
                let states = rollout.skipped.map { "\($0) \(reply.hosts[$0] ?? "-")" }.joined(separator: ", ")
                text += "  skipped (DOWN or not registered; converges when UP): \(states)\n"
            }
            if let error = rollout.error { text += "  error: \(error)\n" }
            return text
        }
    }
}
