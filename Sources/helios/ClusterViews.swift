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
        if master.json { return Table.raw(data) }
        Table.print(["HOST", "JOB", "DEPLOYMENT", "GOAL", "STATE", "ERROR"], rows)
    }
}

/// `helios hosts`: the hosts, up or down, with their labels and task counts.
struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hosts", abstract: "The cluster's hosts.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        let client = try master.client()
        let data = try await client.get("/v1/hosts")
        if master.json { return Table.raw(data) }
        Table.print(["HOST", "STATUS", "TASKS", "RUNNING", "LABELS"], try client.decode([HostReply].self, data).map { host in
            [host.name, host.up ? "UP" : "DOWN", "\(host.tasks.count)",
             "\(host.tasks.filter { $0.status?.state == .running }.count)",
             host.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]
        })
    }
}

/// `helios jobs`: the jobs and how many hosts run each.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "The cluster's jobs.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        let client = try master.client()
        let data = try await client.get("/v1/jobs")
        if master.json { return Table.raw(data) }
        Table.print(["JOB", "IMAGE", "HOSTS", "RUNNING"], try client.decode([JobReply].self, data).map { job in
            [job.id, job.job?.image ?? "", "\(job.hosts.count)", "\(job.hosts.values.filter { $0?.state == .running }.count)"]
        })
    }
}

/// `helios deployments`: each deployment, its job and its hosts' states.
struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployments", abstract: "The cluster's deployments.")
    @OptionGroup var master: MasterOptions

    func run() async throws {
        let client = try master.client()
        let data = try await client.get("/v1/deployments")
        if master.json { return Table.raw(data) }
        Table.print(["DEPLOYMENT", "JOB", "GOAL", "HOSTS"], try client.decode([DeploymentReply].self, data).map { deployment in
            [deployment.name, deployment.deployment?.jobID.description ?? "", deployment.deployment?.goal.rawValue ?? "",
             deployment.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")]
        })
    }
}

/// `helios history JOB`: the job's task events on each host, oldest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "A job's task events per host.")
    @OptionGroup var master: MasterOptions
    @Argument(help: "The job id (name:version:hash).") var job: String

    func run() async throws {
        let client = try master.client()
        let data = try await client.get("/v1/jobs/\(job)/history")
        if master.json { return Table.raw(data) }
        let history = try client.decode([String: [TaskStatus]].self, data)
        Table.print(["HOST", "STATE", "CONTAINER", "ERROR"], history.keys.sorted().flatMap { host in
            history[host]!.map { [host, $0.state.rawValue, String(($0.containerID ?? "").prefix(12)), $0.containerError ?? ""] }
        })
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
