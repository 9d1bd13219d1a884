import Foundation
import HeliosModel
import Yams

/// Turns manifest files into a `DesiredState`, or into every diagnostic at once.
public enum ManifestLoader {
    /// Parses and validates `files`. Any error fails the whole set: nothing partial.
    public static func load(_ files: [ManifestFile]) -> Result<DesiredState, ManifestError> {
        var diagnostics: [Diagnostic] = []
        var jobs: [Located<Job>] = []
        var deployments: [Located<DeploymentManifest>] = []

        for file in files {
            for document in documents(of: file, diagnostics: &diagnostics) {
                var reader = DocumentReader(file: file.path, node: document)
                switch reader.kind() {
                case "Job": if let job = reader.job() { jobs.append(job) }
                case "Deployment": if let deployment = reader.deployment() { deployments.append(deployment) }
                default: break
                }
                diagnostics += reader.diagnostics
            }
        }

        var desired = DesiredState()
        var declaredJobs: [String: [Located<Job>]] = [:]
        for job in jobs {
            if let first = declaredJobs[job.value.name]?.first(where: { $0.value.version == job.value.version }) {
                diagnostics.append(job.diagnostic(
                    "job '\(job.value.name):\(job.value.version)' is declared twice (first at \(first.position))"))
                continue
            }
            declaredJobs[job.value.name, default: []].append(job)
            desired.jobs[job.value.id] = job.value
        }

        var declaredDeployments: [String: Located<DeploymentManifest>] = [:]
        for deployment in deployments {
            let manifest = deployment.value
            if let first = declaredDeployments[manifest.name] {
                diagnostics.append(deployment.diagnostic(
                    "deployment '\(manifest.name)' is declared twice (first at \(first.position))"))
                continue
            }
            declaredDeployments[manifest.name] = deployment
            guard let job = resolve(manifest.job, in: declaredJobs, for: deployment, diagnostics: &diagnostics) else { continue }
            desired.deployments[manifest.name] = Deployment(name: manifest.name, jobID: job.id, hosts: manifest.hosts)
        }

        return diagnostics.isEmpty ? .success(desired) : .failure(ManifestError(diagnostics: diagnostics))
    }

    /// A deployment's `job:` — a job name with exactly one declared version, or `name:version`.
    private static func resolve(_ reference: Located<String>, in declared: [String: [Located<Job>]],
                                for deployment: Located<DeploymentManifest>,
                                diagnostics: inout [Diagnostic]) -> Job? {
        let parts = reference.value.split(separator: ":", maxSplits: 1).map(String.init)
        let known = declared.keys.sorted().joined(separator: ", ")
        guard let versions = declared[parts[0]] else {
            diagnostics.append(reference.diagnostic(
                "job '\(reference.value)' is not declared (declared jobs: \(known.isEmpty ? "none" : known))"))
            return nil
        }
        if parts.count == 2 {
            guard let job = versions.first(where: { $0.value.version == parts[1] }) else {
                let available = versions.map(\.value.version).sorted().joined(separator: ", ")
                diagnostics.append(reference.diagnostic(
                    "job '\(parts[0])' has no version '\(parts[1])' (declared versions: \(available))"))
                return nil
            }
            return job.value
        }
        guard versions.count == 1 else {
            let available = versions.map { "\(parts[0]):\($0.value.version)" }.sorted().joined(separator: ", ")
            diagnostics.append(reference.diagnostic(
                "job '\(parts[0])' is ambiguous: name one version (\(available))"))
            return nil
        }
        return versions[0].value
    }

    /// The YAML documents of a file, or a diagnostic at the syntax error.
    private static func documents(of file: ManifestFile, diagnostics: inout [Diagnostic]) -> [Node] {
        guard let text = String(data: file.content, encoding: .utf8) else {
            diagnostics.append(Diagnostic(file: file.path, line: 1, column: 1, message: "file is not UTF-8 text"))
            return []
        }
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                nodes.append(node)
            }
        } catch let error as YamlError {
            diagnostics.append(diagnostic(for: error, in: file.path))
        } catch {
            diagnostics.append(Diagnostic(file: file.path, line: 1, column: 1, message: "\(error)"))
        }
        return nodes
    }

    private static func diagnostic(for error: YamlError, in file: String) -> Diagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return Diagnostic(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(file: file, line: context.mark.line, column: context.mark.column,
                              message: "duplicate key '\(duplicates.joined(separator: "', '"))'")
        default:
            return Diagnostic(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
        }
    }
}

/// A value with the place it was declared.
struct Located<Value> {
    let value: Value
    let file: String
    let line: Int
    let column: Int

    var position: String { "\(file):\(line):\(column)" }

    func diagnostic(_ message: String) -> Diagnostic {
        Diagnostic(file: file, line: line, column: column, message: message)
    }
}

/// A deployment as written, before its job reference is resolved.
struct DeploymentManifest {
    let name: String
    let job: Located<String>
    let hosts: [String]
}
