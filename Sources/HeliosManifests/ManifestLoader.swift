import Foundation
import HeliosModel

/// Turns manifest files into a `DesiredState`, or into every diagnostic at once.
///
/// Pure: the files and the clock come in as values.
public enum ManifestLoader {
    /// The biggest manifest file read.
    public static let maxFileBytes = 1 << 20
    /// The most manifest bytes one repository may hold.
    public static let maxRepositoryBytes = 64 << 20
    /// The optional sync settings at the repository root.
    public static let settingsFile = "helios.yaml"

    /// Parses and validates `files`. Any error fails the whole set: nothing partial.
    public static func load(_ files: [ManifestFile]) -> Result<DesiredState, ManifestError> {
        load(files, parse: parse).result
    }

    /// `load`, and the warnings `helios validate` and `plan` print: jobs whose `expires` is past
    /// at `now` (the leader undeploys and removes them; they block nothing).
    public static func check(_ files: [ManifestFile], now: Date) -> (result: Result<DesiredState, ManifestError>, warnings: [Diagnostic]) {
        let (parsed, result) = load(files, parse: parse)
        let warnings = parsed.values.flatMap(\.jobs).compactMap { expiry(of: $0, now: now) }.sorted()
        return (result, warnings)
    }

    /// Loads `files`, parsing each selected manifest with `parse`; also gives what was parsed.
    static func load(_ files: [ManifestFile],
                     parse: (ManifestFile) -> ParsedFile) -> (parsed: [String: ParsedFile], result: Result<DesiredState, ManifestError>) {
        let sink = DiagnosticSink()
        let (settings, pathEntries) = files.first { $0.path == settingsFile }.map { readSettings($0, sink: sink) }
            ?? (SyncSettings(), [])
        let candidates = files.filter { $0.path != settingsFile }
        let manifests = candidates.filter { isSelected($0.path, by: settings.paths) }
        // A typo in `paths` would select nothing there — for a master, as if those manifests
        // were deleted.
        for (path, node) in pathEntries where !manifests.contains(where: { isSelected($0.path, by: [path]) }) {
            var message = "paths entry '\(Printable.escape(path))' selects no manifest file"
            let folders = Set(candidates.compactMap { $0.path.split(separator: "/").dropLast().first.map(String.init) })
            let suggestion = folders.sorted().first { $0.hasPrefix(path) } ?? Suggestions.closest(to: path, among: folders.sorted())
            if let suggestion { message += " (did you mean '\(suggestion)'?)" }
            sink.report(settingsFile, node, message)
        }
        let parsed = parseAll(manifests, with: parse)
        let byPath = Dictionary(zip(manifests.map(\.path), parsed), uniquingKeysWith: { _, last in last })
        let total = parsed.reduce(0) { $0 + $1.size }
        if let problem = sizeProblem(total) {
            return (byPath, .failure(ManifestError(diagnostics: sink.diagnostics + [problem])))
        }
        for file in parsed {
            for diagnostic in file.diagnostics { sink.append(diagnostic) }
        }
        // What an agent with the repository's policy would refuse, said at the job.
        if let policy = settings.policy {
            for job in parsed.flatMap(\.jobs) {
                for violation in policy.violations(of: job.value.job) {
                    sink.append(Diagnostic(file: job.file, line: job.line, column: job.column,
                                           message: "job \(job.value.job.name):\(job.value.job.version) breaks the policy in \(settingsFile): \(violation)"))
                }
            }
        }
        let desired = resolve(jobs: parsed.flatMap(\.jobs),
                              deployments: parsed.flatMap(\.deployments), settings: settings, sink: sink)
        return (byPath, sink.diagnostics.isEmpty ? .success(desired) : .failure(ManifestError(diagnostics: sink.diagnostics)))
    }

    /// `files` parsed with `parse`, in order: on every core once there are enough files to share
    /// (each file is parsed on its own, with its own sink, so the workers share nothing).
    static func parseAll(_ files: [ManifestFile], with parse: (ManifestFile) -> ParsedFile) -> [ParsedFile] {
        let workers = files.count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount
        guard workers > 1 else { return files.map(parse) }
        return withoutActuallyEscaping(parse) { parse in
            let results = UnsafeMutableBufferPointer<ParsedFile>.allocate(capacity: files.count)
            defer { results.deallocate() }
            // Each worker initializes its own slots (every `workers`-th); the buffer outlives them.
            nonisolated(unsafe) let (slots, parseFile) = (results, parse)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in stride(from: worker, to: files.count, by: workers) {
                    (slots.baseAddress! + index).initialize(to: parseFile(files[index]))
                }
            }
            return (0..<files.count).map { (results.baseAddress! + $0).move() }
        }
    }

    /// The settings, and each `paths` entry with its node (to point at one that selects nothing).
    static func readSettings(_ file: ManifestFile, sink: DiagnosticSink) -> (SyncSettings, [(String, Node)]) {
        let documents = self.documents(of: file, sink: sink)
        if documents.count > 1 {
            sink.report(file.path, documents[1], "\(settingsFile) holds one document")
        }
        guard let document = documents.first,
              let reader = MappingReader(file: file.path, node: document, what: settingsFile, sink: sink)
        else { return (SyncSettings(), []) }
        let settings = SettingsReader.read(reader)
        let entries = reader.value("paths")?.sequence.map { items in
            zip(settings.paths, items).map { ($0, $1) }
        } ?? []
        return (settings, entries)
    }

    /// The error for manifests adding up to `total` bytes, when that is over the limit.
    static func sizeProblem(_ total: Int) -> Diagnostic? {
        guard total > maxRepositoryBytes else { return nil }
        return Diagnostic(file: settingsFile, line: 1, column: 1, message:
            "the manifests add up to \(megabytes(total)), more than the limit of \(megabytes(maxRepositoryBytes))")
    }

    /// The warning for a job whose `expires` has passed.
    static func expiry(of job: Located<ParsedJob>, now: Date) -> Diagnostic? {
        guard let expires = job.value.job.expires, expires <= now, let position = job.value.expiresAt else { return nil }
        return Diagnostic(file: job.file, line: position.line, column: position.column, severity: .warning, message:
            "job \(job.value.job.name):\(job.value.job.version) expired at \(expires.formatted(.iso8601)): "
                + "the leader undeploys and removes it; remove it from git")
    }

    /// Parses one file on its own: everything that does not span files.
    static func parse(_ file: ManifestFile) -> ParsedFile {
        let sink = DiagnosticSink()
        var result = ParsedFile(size: file.content.count)
        for node in documents(of: file, sink: sink) {
            guard let document = MappingReader(file: file.path, node: node, what: "a manifest document", sink: sink)
            else { continue }
            if let apiVersion = document.value("apiVersion") {
                // One error, not one per field Helios does not know.
                let version = apiVersion.string.map { ": \(Printable.escape($0))" } ?? ""
                document.report(apiVersion, "this looks like a Kubernetes manifest (apiVersion\(version)); "
                    + "Helios manifests have kind Job or Deployment and no apiVersion (see docs/manifests.md)")
                continue
            }
            guard let kind = document.string("kind", required: true) else { continue }
            let location = Located(value: (), file: file.path, node: node)
            switch kind {
            case "Job":
                if let job = JobReader.read(document) {
                    let expiresAt = document.value("expires")?.mark.map { Position(line: $0.line, column: $0.column) }
                    result.jobs.append(location.with(ParsedJob(job: job, id: job.id, expiresAt: expiresAt)))
                }
            case "Deployment":
                if let deployment = DeploymentReader.read(document) { result.deployments.append(location.with(deployment)) }
            default:
                var message = "unknown kind '\(Printable.escape(kind))' (expected Job or Deployment)"
                if let suggestion = Suggestions.closest(to: kind, among: ["Job", "Deployment"]) {
                    message = "unknown kind '\(Printable.escape(kind))' (did you mean '\(suggestion)'?)"
                }
                document.report(document.value("kind")!, message)
            }
        }
        result.diagnostics = sink.diagnostics
        return result
    }

    /// Checks what spans documents: duplicates, job references, static port clashes.
    static func resolve(jobs: [Located<ParsedJob>], deployments: [Located<DeploymentManifest>],
                        settings: SyncSettings, sink: DiagnosticSink) -> DesiredState {
        var desired = DesiredState(settings: settings)
        var declared: [String: [Located<ParsedJob>]] = [:]
        for parsed in jobs {
            let job = parsed.value.job
            if let first = declared[job.name]?.first(where: { $0.value.job.version == job.version }) {
                sink.append(parsed.diagnostic("job '\(job.name):\(job.version)' is declared twice (first at \(first.position))"))
                continue
            }
            declared[job.name, default: []].append(parsed)
            desired.jobs[parsed.value.id] = job
        }

        var seen: [String: Located<DeploymentManifest>] = [:]
        var resolved: [(Located<DeploymentManifest>, ParsedJob)] = []
        for deployment in deployments {
            let manifest = deployment.value
            if let first = seen[manifest.name] {
                sink.append(deployment.diagnostic("deployment '\(manifest.name)' is declared twice (first at \(first.position))"))
                continue
            }
            seen[manifest.name] = deployment
            guard let job = reference(manifest.job, at: manifest.jobAt, file: deployment.file,
                                      declared: { declared[$0] }, known: { declared.keys.sorted() }, sink: sink)
            else { continue }
            resolved.append((deployment, job))
            desired.deployments[manifest.name] = deployment.resolved(to: job.id)
        }
        checkStaticPorts(resolved, sink: sink)
        return desired
    }

    /// A deployment's `job:` — a job name with exactly one declared version, or `name:version`.
    static func reference(_ text: String, at position: Position, file: String,
                          declared: (String) -> [Located<ParsedJob>]?, known: () -> [String],
                          sink: DiagnosticSink) -> ParsedJob? {
        let report = { (message: String) in
            sink.append(Diagnostic(file: file, line: position.line, column: position.column, message: message))
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let versions = declared(parts[0]) else {
            let known = known()
            var message = "job '\(Printable.escape(text))' is not declared"
            if let suggestion = Suggestions.closest(to: parts[0], among: known) {
                message += " (did you mean '\(suggestion)'?)"
            } else {
                let listed = known.count <= 10 ? known.joined(separator: ", ") : known.prefix(10).joined(separator: ", ") + ", …"
                message += " (declared jobs: \(known.isEmpty ? "none" : listed))"
            }
            report(message)
            return nil
        }
        if parts.count == 2 {
            guard let job = versions.first(where: { $0.value.job.version == parts[1] }) else {
                let available = versions.map(\.value.job.version).sorted().joined(separator: ", ")
                report("job '\(parts[0])' has no version '\(Printable.escape(parts[1]))' (declared versions: \(available))")
                return nil
            }
            return job.value
        }
        guard versions.count == 1 else {
            let available = versions.map { "\(parts[0]):\($0.value.job.version)" }.sorted().joined(separator: ", ")
            report("job '\(parts[0])' is ambiguous: name one version (\(available))")
            return nil
        }
        return versions[0].value
    }

    /// Two deployments that can land on one host must not claim the same static external port.
    static func checkStaticPorts(_ deployments: [(Located<DeploymentManifest>, ParsedJob)], sink: DiagnosticSink) {
        var claims: [String: [(Located<DeploymentManifest>, String)]] = [:]
        // Only jobs with a static port can clash: sort just those deployments.
        let claimants = deployments.filter { $0.1.job.ports?.values.contains { $0.external != nil } == true }
        for (deployment, parsed) in claimants.sorted(by: { $0.0.value.name < $1.0.value.name }) {
            for (portName, port) in (parsed.job.ports ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let external = port.external else { continue }
                claims["\(external)/\(port.effectiveProtocol)", default: []].append((deployment, portName))
            }
        }
        for (port, claimants) in claims.sorted(by: { $0.key < $1.key }) where claimants.count > 1 {
            for (index, (second, _)) in claimants.enumerated() {
                for (first, _) in claimants[..<index] where canShareHost(first.value, second.value) {
                    sink.append(Diagnostic(file: second.file, line: second.value.jobAt.line, column: second.value.jobAt.column,
                                           message: "deployments '\(first.value.name)' and '\(second.value.name)' can share a host and both claim external port \(port)"))
                }
            }
        }
    }

    /// Whether some host could run both deployments.
    static func canShareHost(_ a: DeploymentManifest, _ b: DeploymentManifest) -> Bool {
        if !Set(a.hosts).isDisjoint(with: b.hosts) { return true }
        if !a.hostSelector.isEmpty && !b.hosts.isEmpty { return true }
        if !b.hostSelector.isEmpty && !a.hosts.isEmpty { return true }
        guard !a.hostSelector.isEmpty && !b.hostSelector.isEmpty else { return false }
        return !a.hostSelector.contains { x in b.hostSelector.contains { y in disjoint(x, y) } }
    }

    /// True when no labels can satisfy both selectors.
    static func disjoint(_ x: HostSelector, _ y: HostSelector) -> Bool {
        guard x.label == y.label else { return false }
        let positive: (HostSelector) -> Set<String>? = { s in
            switch s.operator {
            case .equals, .in: Set(s.values)
            case .notEquals, .notIn: nil
            }
        }
        switch (positive(x), positive(y)) {
        case let (a?, b?): return a.isDisjoint(with: b)
        case let (a?, nil): return a.isSubset(of: y.values)
        case let (nil, b?): return b.isSubset(of: x.values)
        case (nil, nil): return false
        }
    }

    static func isSelected(_ path: String, by paths: [String]) -> Bool {
        paths.isEmpty || paths.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The YAML documents of a file, or a diagnostic.
    static func documents(of file: ManifestFile, sink: DiagnosticSink) -> [Node] {
        guard file.content.count <= maxFileBytes else {
            sink.append(Diagnostic(file: file.path, line: 1, column: 1, message:
                "file is \(bytes(file.content.count)); a manifest may be at most \(bytes(maxFileBytes)) (1 MiB)"))
            return []
        }
        guard let text = String(validating: file.content, as: UTF8.self), !text.utf8.contains(0) else {
            sink.append(Diagnostic(file: file.path, line: 1, column: 1, message: "not a text file: manifests are UTF-8 YAML"))
            return []
        }
        switch YAMLComposer.compose(text, file: file.path) {
        case .success(let documents):
            // An empty document (a trailing `---`) is skipped, as kubectl and kustomize do.
            return documents.filter { !$0.isNull }
        case .failure(let refusal):
            sink.append(refusal.diagnostic)
            return []
        }
    }

    /// What libyaml's "found character that cannot start any token" means at a tab.
    static let tabProblem = "a tab character here; YAML indents with spaces only"

    /// Whether the character at a 1-based position of `text` is a tab.
    static func isTab(in text: String, line: Int, column: Int) -> Bool {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count, column >= 1 else { return false }
        return lines[line - 1].dropFirst(column - 1).first == "\t"
    }

    /// `1,048,577 bytes`.
    static func bytes(_ count: Int) -> String {
        count.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) + " bytes"
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) : "\(bytes) bytes"
    }
}

extension Located<DeploymentManifest> {
    /// The deployment, once its `job:` resolved to `job`.
    func resolved(to job: JobID) -> Deployment {
        Deployment(name: value.name, jobID: job, hosts: value.hosts, hostSelector: value.hostSelector,
                   goal: value.goal, protect: value.protect, rollout: value.rollout,
                   source: Source(file: file, revision: nil))
    }

    /// The name of the job `job:` refers to, without a version.
    var jobName: String { String(value.job.prefix { $0 != ":" }) }
}

/// A line and column, 1-based.
struct Position: Sendable, Equatable {
    let line: Int
    let column: Int
}

/// A job as parsed, with its id (hashing is not free: cached with the file) and where its
/// `expires` is written.
struct ParsedJob: Sendable {
    let job: Job
    let id: JobID
    let expiresAt: Position?
}

/// What one file declares, parsed on its own.
struct ParsedFile: Sendable {
    var size: Int
    var jobs: [Located<ParsedJob>] = []
    var deployments: [Located<DeploymentManifest>] = []
    var diagnostics: [Diagnostic] = []
}

/// A value with the place it was declared.
struct Located<Value: Sendable>: Sendable {
    let value: Value
    let file: String
    let line: Int
    let column: Int

    init(value: Value, file: String, line: Int, column: Int) {
        self.value = value
        self.file = file
        self.line = line
        self.column = column
    }

    init(value: Value, file: String, node: Node) {
        self.init(value: value, file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func with<Other: Sendable>(_ value: Other) -> Located<Other> {
        Located<Other>(value: value, file: file, line: line, column: column)
    }

    var position: String { "\(file):\(line):\(column)" }

    func diagnostic(_ message: String) -> Diagnostic {
        Diagnostic(file: file, line: line, column: column, message: message)
    }
}
