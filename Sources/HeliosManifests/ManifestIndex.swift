import Foundation
import HeliosModel

/// A repository's manifests, loaded once and then kept current change by change: a one-file
/// commit parses that file and resolves again only the deployments it can affect, and says
/// exactly what changed in the desired state, so that the planner plans just that.
///
/// It gives the desired state and the diagnostics `ManifestLoader.load` gives for all the files
/// (tested). What the quick path does not decide on its own (a change of `helios.yaml`, any
/// error, a static port) takes the full load of the files the index holds.
/// A change that fails leaves the index as it was.
public struct ManifestIndex: Sendable {
    /// What the manifests declare.
    public private(set) var desired = DesiredState()
    /// Every manifest file by path, `helios.yaml` and files `paths` leaves out included.
    private var files: [String: ManifestFile] = [:]
    /// The selected manifests, parsed.
    private var parsed: [String: ParsedFile] = [:]
    /// Job name → its declarations, in path order.
    private var declared: [String: [Located<ParsedJob>]] = [:]
    /// Deployment name → its manifest.
    private var manifests: [String: Located<DeploymentManifest>] = [:]
    /// Job name → the deployments whose `job:` names it.
    private var referencing: [String: Set<String>] = [:]
    private var totalBytes = 0

    public init() {}

    /// Loads `files` in full, in place of what the index held.
    public mutating func load(_ files: [ManifestFile]) -> Result<DesiredChange, ManifestError> {
        rebuild(Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last }))
    }

    /// Applies what a commit changed.
    public mutating func apply(_ changes: ManifestChanges) -> Result<DesiredChange, ManifestError> {
        let settingsFile = ManifestLoader.settingsFile
        let touchesSettings = changes.changed.contains { $0.path == settingsFile } || changes.removed.contains(settingsFile)
        guard !touchesSettings, let update = quickUpdate(changes) else {
            var files = self.files
            for path in changes.removed { files[path] = nil }
            for file in changes.changed { files[file.path] = file }
            return rebuild(files)
        }
        commit(update, changes)
        return .success(update.change)
    }

    /// The full load. Files the index holds unchanged are not parsed again.
    private mutating func rebuild(_ files: [String: ManifestFile]) -> Result<DesiredChange, ManifestError> {
        let (heldFiles, heldParsed) = (self.files, parsed)
        let (parsed, result) = ManifestLoader.load(files.values.sorted { $0.path < $1.path }) { file in
            if let held = heldParsed[file.path], heldFiles[file.path] == file { return held }
            return ManifestLoader.parse(file)
        }
        guard case .success(let new) = result else { return result.map { _ in DesiredChange() } }
        let change = DesiredChange(from: desired, to: new)
        self = ManifestIndex()
        self.files = files
        self.parsed = parsed
        desired = new
        for path in parsed.keys.sorted() {
            let file = parsed[path]!
            totalBytes += file.size
            for job in file.jobs {
                declared[job.value.job.name, default: []].append(job)
            }
            for manifest in file.deployments {
                manifests[manifest.value.name] = manifest
                referencing[manifest.jobName, default: []].insert(manifest.value.name)
            }
        }
        return .success(change)
    }

    /// What a change does to the index, worked out without touching it.
    private struct Update {
        /// The selected files changed or removed.
        var touched: Set<String> = []
        /// The selected files changed, parsed.
        var parsed: [String: ParsedFile] = [:]
        var totalBytes: Int
        /// The new declarations of every job name the touched files declared before or now.
        var declared: [String: [Located<ParsedJob>]] = [:]
        /// The new manifest (nil: removed) of every deployment the touched files declared before or now.
        var manifests: [String: Located<DeploymentManifest>?] = [:]
        /// The new value (nil: removed) of every deployment that may have changed.
        var deployments: [String: Deployment?] = [:]
        var addedJobs: [Located<ParsedJob>] = []
        var change = DesiredChange()
    }

    /// The update, when it is valid and needs no full load to be sure of that; else nil.
    private func quickUpdate(_ changes: ManifestChanges) -> Update? {
        var update = Update(totalBytes: totalBytes)
        for path in changes.removed where parsed[path] != nil { update.touched.insert(path) }
        for file in changes.changed where ManifestLoader.isSelected(file.path, by: desired.settings.paths) {
            let result = ManifestLoader.parse(file)
            guard result.diagnostics.isEmpty else { return nil }
            update.touched.insert(file.path)
            update.parsed[file.path] = result
        }
        let before = update.touched.compactMap { parsed[$0] }
        let after = update.parsed.sorted { $0.key < $1.key }.map(\.value)
        update.totalBytes += after.reduce(0) { $0 + $1.size } - before.reduce(0) { $0 + $1.size }
        guard ManifestLoader.sizeProblem(update.totalBytes) == nil else { return nil }

        // Jobs: the touched files' declarations replace what they declared before.
        let oldJobs = before.flatMap(\.jobs), newJobs = after.flatMap(\.jobs)
        let oldIDs = Set(oldJobs.map(\.value.id)), newIDs = Set(newJobs.map(\.value.id))
        update.change.jobs = oldIDs.symmetricDifference(newIDs)
        update.addedJobs = newJobs.filter { !oldIDs.contains($0.value.id) }
        let jobNames = Set((oldJobs + newJobs).map(\.value.job.name))
        for name in jobNames {
            var declarations = (declared[name] ?? []).filter { !update.touched.contains($0.file) }
            declarations += newJobs.filter { $0.value.job.name == name }
            guard Set(declarations.map(\.value.job.version)).count == declarations.count else { return nil }
            update.declared[name] = declarations.sorted { $0.file < $1.file }
        }

        // Deployments: those the touched files declare(d), and those naming a touched job.
        for file in before {
            for manifest in file.deployments { update.manifests[manifest.value.name] = .some(nil) }
        }
        for file in after {
            for manifest in file.deployments {
                let name = manifest.value.name
                if case .some(.some) = update.manifests[name] { return nil } // declared twice
                if let held = manifests[name], !update.touched.contains(held.file) { return nil }
                update.manifests[name] = manifest
            }
        }
        var dirty = Set(update.manifests.keys)
        for name in jobNames { dirty.formUnion(referencing[name] ?? []) }
        let sink = DiagnosticSink()
        let lookup = { (name: String) -> [Located<ParsedJob>]? in
            guard let declarations = update.declared[name] else { return declared[name] }
            return declarations.isEmpty ? nil : declarations
        }
        for name in dirty {
            let manifest = update.manifests[name] ?? manifests[name]
            let old = desired.deployments[name]
            // Static ports can clash across all deployments: the full load checks them.
            if let old, hasStaticPort(desired.jobs[old.jobID]) { return nil }
            guard let manifest else {
                update.deployments[name] = .some(nil)
                if old != nil { update.change.deployments.insert(name) }
                continue
            }
            guard let job = ManifestLoader.reference(manifest.value.job, at: manifest.value.jobAt, file: manifest.file,
                                                     declared: lookup, known: { [] }, sink: sink),
                  !hasStaticPort(job.job)
            else { return nil }
            let deployment = manifest.resolved(to: job.id)
            update.deployments[name] = deployment
            if old != deployment { update.change.deployments.insert(name) }
        }
        return update
    }

    private func hasStaticPort(_ job: Job?) -> Bool {
        job?.ports?.values.contains { $0.external != nil } == true
    }

    private mutating func commit(_ update: Update, _ changes: ManifestChanges) {
        for path in changes.removed {
            files[path] = nil
            parsed[path] = nil
        }
        for file in changes.changed { files[file.path] = file }
        for (path, file) in update.parsed { parsed[path] = file }
        totalBytes = update.totalBytes
        for (name, declarations) in update.declared { declared[name] = declarations.isEmpty ? nil : declarations }
        for (name, manifest) in update.manifests {
            if let old = manifests[name] {
                referencing[old.jobName]?.remove(name)
                if referencing[old.jobName]?.isEmpty == true { referencing[old.jobName] = nil }
            }
            if let manifest { referencing[manifest.jobName, default: []].insert(name) }
            manifests[name] = manifest
        }
        for (name, deployment) in update.deployments { desired.deployments[name] = deployment }
        for id in update.change.jobs {
            desired.jobs[id] = nil
        }
        for job in update.addedJobs {
            desired.jobs[job.value.id] = job.value.job
        }
    }
}
