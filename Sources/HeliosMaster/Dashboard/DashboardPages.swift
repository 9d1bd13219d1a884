import Foundation
import HeliosModel
import HeliosPlanner
import HeliosStore

/// What each dashboard page shows, built from the same store reads and reply types as the JSON
/// API (`DeploymentReply`, `HostReply`, the sync record): pure values the templates render, so a
/// page says what `/v1/…` says.
enum DashboardPages {
    /// Rows of the deployments matrix and hosts lists per page: large clusters page, never truncate.
    static let pageSize = 50
    /// Hosts (columns) of the matrix per page.
    static let hostColumns = 40

    struct Common {
        var title: String
        var nav: [NavItem]
        /// Whether the session may take actions (a token with `deploy`, or an open master).
        var canDeploy: Bool
        /// Whether a token signed this session in (a sign-out button).
        var signedIn: Bool
        var csrf: String
        var generatedAt: String
    }

    struct NavItem {
        var label: String
        var href: String
        var current: Bool
    }

    static func common(_ title: String, section: String, session: DashboardSession, now: Date) -> Common {
        let sections = [("Overview", "/ui"), ("Deployments", "/ui/deployments"), ("Hosts", "/ui/hosts"), ("Commits", "/ui/commits")]
        return Common(title: title, nav: sections.map { NavItem(label: $0.0, href: $0.1, current: $0.0 == section) },
                      canDeploy: session.canDeploy, signedIn: session.signedIn, csrf: session.csrf,
                      generatedAt: now.formatted(.iso8601))
    }

    // MARK: Overview

    struct Overview {
        var common: Common
        var sync: SyncView?
        var counts: Counts
        var rolling: [RolloutView]
        var failed: [RolloutView]
        /// Stored, not computed: templates see stored properties only.
        var hasFailed: Bool
    }

    struct Counts {
        var hostsUp: Int
        var hostsDown: Int
        var deployments: Int
        var inSync: Int
        var rollingOut: Int
        var failed: Int
    }

    struct SyncView {
        var status: String
        var tone: String
        var reason: String
        var summary: String
        var applied: String?
        var appliedAgo: String?
        var attempted: String?
        /// The last attempt is not what is applied: a refused commit.
        var refused: Bool
        var diagnostics: [DiagnosticView]
        var hasDiagnostics: Bool
    }

    struct DiagnosticView {
        var text: String
        var href: String?
    }

    static func overview(_ snapshot: ConfigSnapshot, session: DashboardSession, browse: String?, now: Date) -> Overview {
        let state = snapshot.state
        let hosts = state.knownHosts
        let up = hosts.filter { state.hosts[$0]?.up == true }.count
        let deployments = DeploymentReply.all(snapshot)
        let rolling = deployments.compactMap { $0.rollout }.filter { $0.state == .rollingOut }
        let failed = deployments.compactMap { $0.rollout }.filter { $0.hasFailed }
        let inSync = deployments.filter { reply in
            reply.rollout.map { $0.state == .done || $0.state == .superseded } ?? true && reply.states.keys.allSatisfy { $0 == "RUNNING" }
        }.count
        return Overview(
            common: common("Overview", section: "Overview", session: session, now: now),
            sync: snapshot.syncRecord.map { sync($0, browse: browse, now: now) },
            counts: Counts(hostsUp: up, hostsDown: hosts.count - up, deployments: deployments.count, inSync: inSync,
                           rollingOut: rolling.count, failed: failed.count),
            rolling: rolling.map { rollout($0, snapshot: snapshot, now: now) },
            failed: failed.map { rollout($0, snapshot: snapshot, now: now) }, hasFailed: !failed.isEmpty)
    }

    static func sync(_ record: SyncRecord, browse: String?, now: Date) -> SyncView {
        let tone = switch record.status {
        case .synced: "good"
        case .progressing: "busy"
        case .outOfSync: "warn"
        case .failed: "bad"
        }
        return SyncView(
            status: record.status.rawValue, tone: tone, reason: record.reason.rawValue, summary: record.summary,
            applied: record.lastAppliedRevision.map { String($0.prefix(12)) },
            appliedAgo: record.appliedAt.flatMap { try? Date($0, strategy: .iso8601) }.map { ago($0, now: now) },
            attempted: record.lastAttemptedRevision.map { String($0.prefix(12)) },
            refused: record.lastAttemptedRevision != nil && record.lastAttemptedRevision != record.lastAppliedRevision,
            diagnostics: record.diagnostics.map { diagnostic($0, revision: record.lastAttemptedRevision, browse: browse) },
            hasDiagnostics: !record.diagnostics.isEmpty)
    }

    /// `file:line:column: …` linked to the repository browser (`--repo-browse-url`, with
    /// `{revision}`, `{file}` and `{line}`), when one is set.
    static func diagnostic(_ text: String, revision: String?, browse: String?) -> DiagnosticView {
        let parts = text.split(separator: ":", maxSplits: 3)
        guard let browse, let revision, parts.count == 4, !parts[0].contains(" "), let line = Int(parts[1]), Int(parts[2]) != nil
        else { return DiagnosticView(text: text) }
        let href = browse.replacingOccurrences(of: "{revision}", with: revision)
            .replacingOccurrences(of: "{file}", with: String(parts[0]))
            .replacingOccurrences(of: "{line}", with: String(line))
        return DiagnosticView(text: text, href: href)
    }

    // MARK: Rollouts

    struct RolloutView {
        var deployment: String
        var href: String
        var state: String
        var tone: String
        var batch: String
        var percent: Int
        var started: String
        var elapsed: String
        var to: String
        var from: String?
        var error: String?
        var batches: [BatchView]
        var skipped: String?
    }

    struct BatchView {
        var number: Int
        var status: String
        var hosts: [HostInRollout]
    }

    struct HostInRollout {
        var host: String
        var state: String
        var tone: String
        var since: String?
    }

    static func rollout(_ rollout: RolloutStatus, snapshot: ConfigSnapshot, now: Date) -> RolloutView {
        let state = snapshot.state
        let count = rollout.batches.count
        let ended = rollout.state != .rollingOut
        let done = rollout.state == .done ? count : min(rollout.batch, count)
        let batches = rollout.batches.enumerated().map { index, hosts in
            let status = index < done ? "done"
                : index == rollout.batch ? (rollout.state == .rollingOut ? "current" : rollout.hasFailed ? "failed" : "stopped")
                : ended ? "not reached" : "waiting"
            return BatchView(number: index + 1, status: status, hosts: hosts.map { host in
                let task = state.statuses[host]?[rollout.jobID]
                let name = task.map(taskState) ?? (state.hosts[host]?.up != true ? "DOWN" : ended ? "NOT RUN" : "PENDING")
                return HostInRollout(host: host, state: name, tone: name == "NOT RUN" ? "idle" : tone(of: name),
                                     since: rollout.healthySince[host].map { "healthy " + ago($0, now: now) })
            })
        }
        let batch = switch rollout.state {
        case _ where count == 0: "no batches"
        case .rollingOut: "batch \(min(done + 1, count)) of \(count)"
        case .done: "all \(count) batch\(count == 1 ? "" : "es") done"
        case .failed, .rolledBack: "failed in batch \(min(rollout.batch + 1, count)) of \(count)"
        default: "stopped at batch \(min(rollout.batch + 1, count)) of \(count)"
        }
        let took = Durations.format(Int64(max(0, (rollout.endedAt ?? now).timeIntervalSince(rollout.batchStartedAt)) * 1000))
        return RolloutView(
            deployment: rollout.deployment, href: "/ui/deployments/" + escapePath(rollout.deployment),
            state: rollout.state.rawValue, tone: tone(of: rollout.state.rawValue), batch: batch,
            percent: count == 0 ? 100 : done * 100 / count,
            started: ago(rollout.batchStartedAt, now: now), elapsed: ended ? "took \(took)" : "\(took) so far",
            to: rollout.jobID.description, from: rollout.previousJobID?.description, error: rollout.error, batches: batches,
            skipped: rollout.skipped.isEmpty ? nil : rollout.skipped.joined(separator: ", "))
    }

    // MARK: Deployments matrix

    struct Deployments {
        var common: Common
        var filter: String
        var label: String
        var hosts: [String]
        var rows: [MatrixRow]
        var empty: Bool
        var pages: Pagination
    }

    struct MatrixRow {
        var name: String
        var href: String
        var job: String
        var rollout: String?
        var cells: [Cell]
    }

    struct Cell {
        var state: String
        var tone: String
        /// The throttle or failure, on hover and in text.
        var reason: String?
        var abbreviation: String
    }

    struct Pagination {
        var page: Int
        var pages: Int
        var previous: String?
        var next: String?
        var total: Int

        /// The items of this page.
        func slice<Item>(_ items: [Item]) -> ArraySlice<Item> {
            items.dropFirst((page - 1) * pageSize).prefix(pageSize)
        }
    }

    /// Deployments whose name contains `filter`, against hosts whose labels match `label`
    /// (`key=value`, or a key), a page of rows and at most `hostColumns` hosts wide.
    static func deployments(_ snapshot: ConfigSnapshot, filter: String, label: String, page: Int,
                            session: DashboardSession, now: Date) -> Deployments {
        let state = snapshot.state
        let names = snapshot.config.deployments.keys.sorted().filter { filter.isEmpty || $0.localizedCaseInsensitiveContains(filter) }
        let pagination = paginate(names.count, page: page) { page in
            "/ui/deployments?page=\(page)" + (filter.isEmpty ? "" : "&filter=\(escapeQuery(filter))")
                + (label.isEmpty ? "" : "&label=\(escapeQuery(label))")
        }
        let replies = DeploymentReply.all(snapshot, names: Array(pagination.slice(names)))
        let hosts = Set(replies.flatMap { $0.hosts.keys }).filter { matches(state.hosts[$0]?.labels ?? [:], label) }
            .sorted().prefix(hostColumns)
        let rows = replies.map { reply in
            MatrixRow(name: reply.name, href: "/ui/deployments/" + escapePath(reply.name),
                      job: reply.deployment?.jobID.description ?? "",
                      rollout: reply.rollout.map { $0.state.rawValue },
                      cells: hosts.map { host in
                          guard reply.hosts[host] != nil else { return Cell(state: "", tone: "none", reason: nil, abbreviation: "") }
                          let status = status(of: reply.name, on: host, in: state)
                          let shownState = shown(status, hostUp: state.hosts[host]?.up == true)
                          return Cell(state: shownState, tone: tone(of: shownState), reason: status.flatMap(reason),
                                      abbreviation: String(shownState.prefix(3)))
                      })
        }
        return Deployments(common: common("Deployments", section: "Deployments", session: session, now: now),
                           filter: filter, label: label, hosts: Array(hosts), rows: rows, empty: rows.isEmpty, pages: pagination)
    }

    // MARK: One deployment

    struct DeploymentPage {
        var common: Common
        var name: String
        var job: String
        var placement: String
        var rollout: RolloutView?
        /// Earlier rollouts, newest first.
        var rollouts: [PastRollout]
        var hasRollouts: Bool
        /// Applied revisions whose plan changed this deployment, newest first.
        var commits: [RevisionView]
        var hasCommits: Bool
        var tasks: [TaskHistory]
    }

    struct PastRollout {
        var revision: String
        var job: String
        var from: String?
        var state: String
        var tone: String
        var duration: String
        var ended: String
        var error: String?
    }

    struct TaskHistory {
        var host: String
        var href: String
        var state: String
        var tone: String
        var reason: String?
        var events: [Event]
    }

    struct Event {
        var state: String
        var tone: String
        var detail: String?
        /// ISO 8601, and how long ago.
        var at: String?
        var ago: String?
    }

    static func deployment(_ name: String, _ snapshot: ConfigSnapshot, history: [String: [TaskStatus]],
                           revisions: [AppliedRevision] = [], session: DashboardSession, now: Date) -> DeploymentPage? {
        let reply = DeploymentReply(name: name, snapshot: snapshot)
        guard let deployment = reply.deployment else { return nil }
        let placement = deployment.hosts.isEmpty
            ? "hosts matching " + deployment.hostSelector.map(\.description).joined(separator: ", ")
            : deployment.hosts.joined(separator: ", ")
        let tasks = reply.hosts.keys.sorted().map { host in
            let status = status(of: name, on: host, in: snapshot.state)
            let state = shown(status, hostUp: snapshot.state.hosts[host]?.up == true)
            return TaskHistory(host: host, href: "/ui/hosts/" + escapePath(host), state: state, tone: tone(of: state),
                               reason: status.flatMap(reason),
                               events: (history[host] ?? []).reversed().map { event in
                                   Event(state: taskState(event), tone: tone(of: taskState(event)), detail: reason(event),
                                         at: event.at?.formatted(.iso8601), ago: event.at.map { ago($0, now: now) })
                               })
        }
        let past = (reply.rollout?.history ?? []).reversed().map { record in
            PastRollout(revision: record.revision.map { String($0.prefix(12)) } ?? "-", job: record.jobID.description,
                        from: record.previousJobID?.description, state: record.state.rawValue, tone: tone(of: record.state.rawValue),
                        duration: record.startedAt.flatMap { start in
                            record.endedAt.map { Durations.format(Int64(max(0, $0.timeIntervalSince(start)) * 1000)) }
                        } ?? "-",
                        ended: record.endedAt.map { ago($0, now: now) } ?? "-", error: record.error)
        }
        let commits = Self.revisions(changing: name, in: revisions)
        return DeploymentPage(common: common(name, section: "Deployments", session: session, now: now), name: name,
                              job: deployment.jobID.description, placement: placement,
                              rollout: reply.rollout.map { rollout($0, snapshot: snapshot, now: now) },
                              rollouts: past, hasRollouts: !past.isEmpty,
                              commits: commits, hasCommits: !commits.isEmpty, tasks: tasks)
    }

    // MARK: Hosts

    struct Hosts {
        var common: Common
        var hosts: [HostView]
        var pages: Pagination
    }

    struct HostView {
        var name: String
        var href: String
        var up: Bool
        var labels: String
        var tasks: Int
        var failing: Int
        /// The agent's and the engine's versions, as the agent registered them.
        var agent: String?
    }

    struct HostPage {
        var common: Common
        var host: HostView
        var tasks: [HostTaskView]
    }

    struct HostTaskView {
        var job: String
        var deployment: String
        var href: String
        var goal: String
        var state: String
        var tone: String
        var reason: String?
    }

    /// The hosts of a page, in order: the names `hosts(_:page:…)` shows, for reading their infos.
    static func hostNames(_ snapshot: ConfigSnapshot, page: Int) -> [String] {
        let names = snapshot.state.knownHosts.sorted()
        return Array(paginate(names.count, page: page) { "\($0)" }.slice(names))
    }

    static func hosts(_ snapshot: ConfigSnapshot, page: Int, infos: [String: HostInfo] = [:], session: DashboardSession,
                      now: Date) -> Hosts {
        let state = snapshot.state
        let names = state.knownHosts.sorted()
        let pagination = paginate(names.count, page: page) { "/ui/hosts?page=\($0)" }
        let hosts = pagination.slice(names).map {
            hostView(HostReply(name: $0, state: state), info: infos[$0])
        }
        return Hosts(common: common("Hosts", section: "Hosts", session: session, now: now), hosts: hosts, pages: pagination)
    }

    static func host(_ name: String, _ snapshot: ConfigSnapshot, info: HostInfo? = nil, session: DashboardSession, now: Date) -> HostPage? {
        let state = snapshot.state
        guard state.hosts[name] != nil || state.config.tasks[name] != nil else { return nil }
        let reply = HostReply(name: name, state: state)
        return HostPage(common: common(name, section: "Hosts", session: session, now: now), host: hostView(reply, info: info),
                        tasks: reply.tasks.map { task in
                            let state = shown(task.status, hostUp: reply.up)
                            return HostTaskView(job: task.jobId, deployment: task.deployment,
                                                href: "/ui/deployments/" + escapePath(task.deployment), goal: task.goal,
                                                state: state, tone: tone(of: state), reason: task.status.flatMap(reason))
                        })
    }

    static func hostView(_ reply: HostReply, info: HostInfo?) -> HostView {
        HostView(name: reply.name, href: "/ui/hosts/" + escapePath(reply.name), up: reply.up,
                 labels: reply.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
                 tasks: reply.tasks.count,
                 failing: reply.tasks.filter { $0.status.map { $0.state == .failed || $0.throttled != nil } ?? false }.count,
                 agent: info.map { "helios \($0.agentVersion)" + ($0.dockerAPIVersion.map { ", Docker API \($0)" } ?? "") })
    }

    // MARK: Commits

    struct Commits {
        var common: Common
        var sync: SyncView?
        var revisions: [RevisionView]
    }

    struct RevisionView {
        var revision: String
        var short: String
        var href: String
        var appliedAt: String
        var summary: String
        var current: Bool
        /// How the rollouts it started went, by state ("2 DONE"), bad ones naming their deployments.
        var outcome: [OutcomeView] = []
    }

    struct OutcomeView {
        var state: String
        var tone: String
        var count: Int
        var deployments: String?
    }

    /// One applied revision and the plan it applied, as the plan renderer's HTML.
    struct CommitPage {
        var common: Common
        var revision: String
        var appliedAt: String
        var summary: String
        var outcome: [OutcomeView]
        /// Rendered and escaped by `PlanRenderer.html`.
        var planHTML: String?
        var planOmitted: Bool
    }

    static func commit(_ revision: AppliedRevision, rollouts: [String: RolloutStatus], session: DashboardSession,
                       now: Date) -> CommitPage {
        CommitPage(common: common(String(revision.revision.prefix(12)), section: "Commits", session: session, now: now),
                   revision: revision.revision, appliedAt: revision.appliedAt, summary: revision.summary,
                   outcome: outcomes(rollouts)[revision.revision] ?? [],
                   planHTML: revision.plan.map(PlanRenderer.html), planOmitted: revision.planOmitted == true)
    }

    /// The applied revisions whose plan changed deployment `name`, newest first.
    static func revisions(changing name: String, in revisions: [AppliedRevision]) -> [RevisionView] {
        revisions.reversed().filter { revision in
            revision.plan?.changes.contains { change in
                switch change {
                case .createDeployment(let deployment, _), .removeDeployment(let deployment, _): deployment.name == name
                case .updateDeployment(_, let new, _, _): new.name == name
                case .createJob, .removeJob: false
                }
            } ?? false
        }.map { revisionView($0, current: nil) }
    }

    static func revisionView(_ revision: AppliedRevision, current: String?) -> RevisionView {
        RevisionView(revision: revision.revision, short: String(revision.revision.prefix(12)),
                     href: "/ui/commits/" + escapePath(revision.revision), appliedAt: revision.appliedAt,
                     summary: revision.summary, current: revision.revision == current)
    }

    static func commits(_ record: SyncRecord?, revisions: [AppliedRevision], rollouts: [String: RolloutStatus],
                        browse: String?, session: DashboardSession, now: Date) -> Commits {
        let outcomes = outcomes(rollouts)
        return Commits(common: common("Commits", section: "Commits", session: session, now: now),
                       sync: record.map { sync($0, browse: browse, now: now) },
                       revisions: revisions.reversed().map { revision in
                           var view = revisionView(revision, current: record?.lastAppliedRevision)
                           view.outcome = outcomes[revision.revision] ?? []
                           return view
                       })
    }

    /// Each revision's rollouts by how they went (now and in each deployment's history): one
    /// pass over the statuses. A deployment rolled out twice by one revision counts once, as its
    /// last rollout of that revision went.
    static func outcomes(_ rollouts: [String: RolloutStatus]) -> [String: [OutcomeView]] {
        var last: [String: [String: RolloutStatus.State]] = [:] // revision → deployment → state
        for (name, status) in rollouts {
            for record in status.history + [status.record] {
                guard let revision = record.revision else { continue }
                last[revision, default: [:]][name] = record.state
            }
            if let revision = status.revision { last[revision, default: [:]][name] = status.state }
        }
        let order: [RolloutStatus.State] = [.rolledBack, .failed, .rollingOut, .superseded, .done]
        return last.mapValues { states in
            let byState = Dictionary(grouping: states.keys.sorted()) { states[$0]! }
            return order.compactMap { state in
                guard let names = byState[state] else { return nil }
                let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
                return OutcomeView(state: state.rawValue, tone: tone(of: state.rawValue), count: names.count,
                                   deployments: state == .done ? nil : shown)
            }
        }
    }

    // MARK: Pieces

    /// What a task shows: its throttle (FLAPPING, …) before its state, as `helios status` does.
    static func taskState(_ status: TaskStatus) -> String {
        status.throttled?.rawValue ?? status.state.rawValue
    }

    /// A host's task as the pages show it: DOWN while its host is, PENDING until its agent reports.
    static func shown(_ status: TaskStatus?, hostUp: Bool) -> String {
        hostUp ? status.map(taskState) ?? "PENDING" : "DOWN"
    }

    /// What the agent of `host` reports of its task of deployment `name`.
    static func status(of name: String, on host: String, in state: ClusterState) -> TaskStatus? {
        state.config.tasks[host]?.values.first { $0.deployment == name }.flatMap { state.statuses[host]?[$0.jobID] }
    }

    static func reason(_ status: TaskStatus) -> String? {
        [status.throttled.map { "throttled: \($0.rawValue)" }, status.containerError].compactMap { $0 }.joined(separator: "; ")
            .nilIfEmpty
    }

    /// The colour family of a state: good, busy, warn, bad, idle.
    static func tone(of state: String) -> String {
        switch state {
        case "RUNNING", "DONE", "SYNCED": "good"
        case "PENDING", "PULLING_IMAGE", "CREATING", "STARTING", "HEALTHCHECKING", "ROLLING_OUT", "PROGRESSING": "busy"
        case "STOPPING", "STOPPED", "EXITED", "SUPERSEDED", "IDLE": "idle"
        case "DOWN", "OUT_OF_SYNC": "warn"
        default: "bad" // FAILED, FLAPPING, ROLLED_BACK, the throttles
        }
    }

    static func matches(_ labels: [String: String], _ selector: String) -> Bool {
        guard !selector.isEmpty else { return true }
        let parts = selector.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return parts.count == 2 ? labels[parts[0]] == parts[1] : labels[parts[0]] != nil
    }

    static func paginate(_ total: Int, page: Int, link: (Int) -> String) -> Pagination {
        let pages = max(1, (total + pageSize - 1) / pageSize)
        let page = min(max(1, page), pages)
        return Pagination(page: page, pages: pages, previous: page > 1 ? link(page - 1) : nil,
                          next: page < pages ? link(page + 1) : nil, total: total)
    }

    static func ago(_ date: Date, now: Date) -> String {
        let seconds = Int64(max(0, now.timeIntervalSince(date)))
        return seconds < 1 ? "just now" : Durations.format(seconds * 1000) + " ago"
    }

    static func escapePath(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
    }

    static func escapeQuery(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
