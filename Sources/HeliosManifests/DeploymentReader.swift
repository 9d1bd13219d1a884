import HeliosModel

/// A deployment as written, before its job reference is resolved.
struct DeploymentManifest: Sendable {
    var name: String
    var job: String
    /// Where `job:` is written, for reference errors found across files.
    var jobAt: Position
    var hosts: [String]
    var hostSelector: [HostSelector]
    var goal: DeploymentGoal
    var protect: Bool
    var rollout: RolloutOptions
}

/// Reads a `kind: Deployment` document.
enum DeploymentReader {
    static let fields = ["kind", "name", "job", "hosts", "hostSelector", "goal", "protect", "rollout"]
    static let rolloutFields = ["parallelism", "overlap", "timeout", "minHealthy", "ignoreFailures", "autoRollback"]

    /// The deployment, when it has a name and a job: also when other fields are wrong, so that
    /// its job reference and its name are still checked (any diagnostic fails the load anyway).
    static func read(_ document: MappingReader) -> DeploymentManifest? {
        let name = document.name("name", required: true)
        let reader = MappingReader(file: document.file, node: document.node,
                                   what: "Deployment '\(name ?? "?")'", sink: document.sink)!
        reader.checkFields(fields)
        let job = reader.string("job", required: true)
        let hosts = reader.strings("hosts") ?? []
        for host in hosts where !Names.isValid(host) {
            reader.report(reader.value("hosts")!, "invalid host name '\(Printable.escape(host))' (allowed: letters, digits, '_', '.', '-')")
        }
        var selectors: [HostSelector] = []
        for text in reader.strings("hostSelector") ?? [] {
            do {
                selectors.append(try HostSelector(parsing: text))
            } catch {
                reader.report(reader.value("hostSelector")!, error.message)
            }
        }
        if reader.value("hosts") == nil && reader.value("hostSelector") == nil {
            reader.report(reader.node, "Deployment '\(name ?? "?")' needs 'hosts', 'hostSelector' or both")
        } else if reader.value("hosts").map({ $0.sequence?.isEmpty ?? false }) ?? true,
                  reader.value("hostSelector").map({ $0.sequence?.isEmpty ?? false }) ?? true {
            // `hosts: []` and no selector: deployed nowhere, surely not what was meant.
            reader.report(reader.value("hosts") ?? reader.value("hostSelector")!,
                          "Deployment '\(name ?? "?")' names no host: give hosts, a hostSelector, or remove the deployment")
        }
        var goal = DeploymentGoal.start
        if let text = reader.string("goal") {
            if let parsed = DeploymentGoal(rawValue: text) {
                goal = parsed
            } else {
                reader.report(reader.value("goal")!, "invalid goal '\(Printable.escape(text))' (start or stop)")
            }
        }
        let protect = reader.bool("protect") ?? false
        var rollout = RolloutOptions()
        if let options = reader.mapping("rollout") {
            options.checkFields(rolloutFields)
            rollout.parallelism = options.int("parallelism", in: 1...10_000) ?? rollout.parallelism
            rollout.overlap = options.bool("overlap") ?? rollout.overlap
            if let timeout = options.duration("timeout") {
                if timeout == 0 { options.report(options.value("timeout")!, "rollout timeout must be longer than 0s") }
                rollout.timeout = timeout
            }
            rollout.minHealthy = options.duration("minHealthy") ?? rollout.minHealthy
            rollout.ignoreFailures = options.bool("ignoreFailures") ?? rollout.ignoreFailures
            rollout.autoRollback = options.bool("autoRollback") ?? rollout.autoRollback
        }
        guard let name, let job else { return nil }
        let mark = reader.value("job")?.mark
        return DeploymentManifest(name: name, job: job, jobAt: Position(line: mark?.line ?? 1, column: mark?.column ?? 1),
                                  hosts: hosts,
                                  hostSelector: selectors, goal: goal, protect: protect, rollout: rollout)
    }
}

/// Reads `helios.yaml`.
enum SettingsReader {
    static let fields = ["paths", "prune", "maxPrune", "selfHeal", "pollInterval", "policy"]

    static func read(_ reader: MappingReader) -> SyncSettings {
        reader.checkFields(fields)
        var settings = SyncSettings()
        if let paths = reader.strings("paths") {
            for path in paths where path.hasPrefix("/") || path.split(separator: "/").contains("..") || path.isEmpty {
                reader.report(reader.value("paths")!, "path '\(Printable.escape(path))' must be relative to the repository root")
            }
            settings.paths = paths.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        }
        settings.prune = reader.bool("prune") ?? settings.prune
        settings.selfHeal = reader.bool("selfHeal") ?? settings.selfHeal
        if let policy = reader.mapping("policy") {
            policy.checkFields(["volumeRoots", "capabilities", "allowPrivileged", "networkModes"])
            let roots = policy.strings("volumeRoots") ?? []
            for root in roots where !root.hasPrefix("/") {
                policy.report(policy.value("volumeRoots")!, "volume root '\(Printable.escape(root))' must be an absolute path")
            }
            let modes = policy.strings("networkModes") ?? []
            for mode in modes where !["host", "container"].contains(mode) {
                policy.report(policy.value("networkModes")!, "invalid network mode '\(Printable.escape(mode))' in policy (host or container)")
            }
            settings.policy = HostPolicy(volumeRoots: roots, capabilities: Set(policy.strings("capabilities") ?? []),
                                         allowPrivileged: policy.bool("allowPrivileged") ?? false, networkModes: Set(modes))
        }
        if let interval = reader.duration("pollInterval") {
            if interval < 100 { reader.report(reader.value("pollInterval")!, "pollInterval must be at least 100ms") }
            settings.pollInterval = interval
        }
        if let value = reader.value("maxPrune"), let text = reader.scalarString(value, "maxPrune") {
            if text.hasSuffix("%"), let percent = Int(text.dropLast()), (0...100).contains(percent) {
                settings.maxPrune = .percent(percent)
            } else if let count = Int(text), count >= 0 {
                settings.maxPrune = .count(count)
            } else {
                reader.report(value, "invalid maxPrune '\(Printable.escape(text))' (a count, e.g. 5, or a share, e.g. 50%)")
            }
        }
        return settings
    }
}
