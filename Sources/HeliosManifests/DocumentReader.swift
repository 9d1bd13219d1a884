import HeliosModel
import Yams

/// Reads one YAML document into a Job or a Deployment, collecting diagnostics with positions.
struct DocumentReader {
    let file: String
    let node: Node
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, node: Node) {
        self.file = file
        self.node = node
    }

    static let jobFields = ["kind", "name", "version", "image", "command"]
    static let deploymentFields = ["kind", "name", "job", "hosts"]

    /// The document's `kind`, or nil with a diagnostic.
    mutating func kind() -> String? {
        guard node.mapping != nil else {
            report(node, "a manifest document must be a mapping with a 'kind'")
            return nil
        }
        guard let kind = string("kind", required: true) else { return nil }
        guard kind.value == "Job" || kind.value == "Deployment" else {
            diagnostics.append(kind.diagnostic("unknown kind '\(kind.value)' (expected Job or Deployment)"))
            return nil
        }
        return kind.value
    }

    mutating func job() -> Located<Job>? {
        checkFields(allowed: Self.jobFields, in: "Job")
        let name = string("name", required: true, isName: true)
        let version = string("version", required: true, isName: true)
        let image = string("image", required: true)
        let command = stringList("command")
        guard let name, let version, let image, diagnostics.isEmpty else { return nil }
        return located(Job(name: name.value, version: version.value, image: image.value, command: command?.value))
    }

    mutating func deployment() -> Located<DeploymentManifest>? {
        checkFields(allowed: Self.deploymentFields, in: "Deployment")
        let name = string("name", required: true, isName: true)
        let job = string("job", required: true)
        let hosts = stringList("hosts", required: true)
        for host in hosts?.value ?? [] where !Names.isValid(host) {
            diagnostics.append(hosts!.diagnostic("invalid host name '\(host)' (allowed: letters, digits, '_', '.', '-')"))
        }
        guard let name, let job, let hosts, diagnostics.isEmpty else { return nil }
        return located(DeploymentManifest(name: name.value, job: job, hosts: hosts.value))
    }

    // MARK: Fields

    private var fields: [(key: Node, value: Node)] {
        node.mapping.map { Array($0) } ?? []
    }

    private func field(_ name: String) -> (key: Node, value: Node)? {
        fields.first { $0.key.string == name }
    }

    private mutating func checkFields(allowed: [String], in kind: String) {
        for (key, _) in fields {
            guard let name = key.string else {
                report(key, "field names must be strings")
                continue
            }
            if !allowed.contains(name) {
                report(key, "unknown field '\(name)' in \(kind)")
            }
        }
    }

    private mutating func string(_ name: String, required: Bool = false, isName: Bool = false) -> Located<String>? {
        guard let (_, value) = field(name) else {
            if required { report(node, "missing required field '\(name)'") }
            return nil
        }
        guard case .scalar(let scalar) = value else {
            report(value, "field '\(name)' must be a string")
            return nil
        }
        if isName && !Names.isValid(scalar.string) {
            report(value, "invalid \(name) '\(scalar.string)' (allowed: letters, digits, '_', '.', '-')")
            return nil
        }
        return located(scalar.string, at: value)
    }

    private mutating func stringList(_ name: String, required: Bool = false) -> Located<[String]>? {
        guard let (_, value) = field(name) else {
            if required { report(node, "missing required field '\(name)'") }
            return nil
        }
        guard let sequence = value.sequence else {
            report(value, "field '\(name)' must be a list of strings")
            return nil
        }
        var strings: [String] = []
        for item in sequence {
            guard case .scalar(let scalar) = item else {
                report(item, "items of '\(name)' must be strings")
                return nil
            }
            strings.append(scalar.string)
        }
        return located(strings, at: value)
    }

    // MARK: Positions

    private func located<T>(_ value: T, at node: Node? = nil) -> Located<T> {
        let mark = (node ?? self.node).mark
        return Located(value: value, file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private mutating func report(_ node: Node, _ message: String) {
        let mark = node.mark
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }
}
