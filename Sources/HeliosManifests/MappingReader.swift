import HeliosModel

/// Collects the diagnostics of one load.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []

    func report(_ file: String, _ node: Node, _ message: String) {
        let mark = node.mark
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    func append(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }
}

/// Reads the fields of one YAML mapping, reporting every problem with its position.
/// Getters return nil for an absent or invalid field; the sink says which.
struct MappingReader {
    let file: String
    let node: Node
    /// How messages name the mapping: `Job 'web'`, `healthCheck`.
    let what: String
    let sink: DiagnosticSink
    /// The mapping's entries, copied out once: every field lookup walks them.
    private let pairs: [(key: Node, value: Node)]

    /// Reads `node`, or reports that it is not a mapping and returns nil.
    init?(file: String, node: Node, what: String, sink: DiagnosticSink) {
        guard let mapping = node.mapping else {
            sink.report(file, node, "\(what) must be a mapping")
            return nil
        }
        self.file = file
        self.node = node
        self.what = what
        self.sink = sink
        pairs = Array(mapping)
    }

    /// The value of `key`, if present.
    func value(_ key: String) -> Node? {
        pairs.first { $0.key.string == key }?.value
    }

    /// The key names, in document order, with their nodes.
    var entries: [(name: String, key: Node, value: Node)] {
        pairs.compactMap { pair in pair.key.string.map { ($0, pair.key, pair.value) } }
    }

    /// Reports every field not in `allowed`, with a suggestion when one is close.
    func checkFields(_ allowed: [String]) {
        for (key, _) in pairs {
            guard case .scalar = key, let name = key.string else {
                sink.report(file, key, "field names in \(what) must be strings")
                continue
            }
            guard !allowed.contains(name) else { continue }
            var message = "unknown field '\(name)' in \(what)"
            if let suggestion = Suggestions.closest(to: name, among: allowed) {
                message += " (did you mean '\(suggestion)'?)"
            }
            sink.report(file, key, message)
        }
    }

    func report(_ node: Node, _ message: String) {
        sink.report(file, node, message)
    }

    /// Reports a required field that is missing at the mapping's position.
    func reportMissing(_ key: String) {
        sink.report(file, node, "missing required field '\(key)' in \(what)")
    }

    // MARK: Scalars

    func string(_ key: String, required: Bool = false) -> String? {
        guard let value = value(key) else {
            if required { reportMissing(key) }
            return nil
        }
        return scalarString(value, key)
    }

    /// A name that becomes part of a ZooKeeper path: `[0-9A-Za-z_.-]+`.
    func name(_ key: String, required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        guard Names.isValid(text) else {
            report(value(key)!, "invalid \(key) '\(Printable.escape(text))' (allowed: letters, digits, '_', '.', '-')")
            return nil
        }
        return text
    }

    func scalarString(_ node: Node, _ key: String) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            report(node, "field '\(key)' in \(what) must be a string")
            return nil
        }
        return scalar.string
    }

    func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .scalar(let scalar) = value, scalar.style == .plain, let bool = value.bool else {
            report(value, "field '\(key)' in \(what) must be true or false")
            return nil
        }
        _ = scalar
        return bool
    }

    func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let value = value(key) else {
            if required { reportMissing(key) }
            return nil
        }
        guard case .scalar(let scalar) = value, scalar.style == .plain, let int = Int(scalar.string) else {
            report(value, "field '\(key)' in \(what) must be a whole number")
            return nil
        }
        guard range.contains(int) else {
            report(value, "field '\(key)' in \(what) must be between \(range.lowerBound) and \(range.upperBound), not \(int)")
            return nil
        }
        return int
    }

    /// Milliseconds, from `500ms`, `5s`, `2m`, `1h`.
    func duration(_ key: String) -> Int64? {
        guard let value = value(key), let text = scalarString(value, key) else { return nil }
        guard let milliseconds = Durations.parse(text) else {
            report(value, "invalid duration '\(Printable.escape(text))' for '\(key)' (use e.g. 500ms, 5s, 2m, 1h30m)")
            return nil
        }
        return milliseconds
    }

    /// Bytes, from `256Mi`, `1Gi`.
    func size(_ key: String) -> Int64? {
        guard let value = value(key), let text = scalarString(value, key) else { return nil }
        guard let bytes = Sizes.parse(text) else {
            report(value, "invalid size '\(Printable.escape(text))' for '\(key)' (use e.g. 512Ki, 256Mi, 1Gi)")
            return nil
        }
        return bytes
    }

    // MARK: Collections

    func strings(_ key: String, required: Bool = false) -> [String]? {
        guard let value = value(key) else {
            if required { reportMissing(key) }
            return nil
        }
        guard let sequence = value.sequence else {
            report(value, "field '\(key)' in \(what) must be a list of strings")
            return nil
        }
        var strings: [String] = []
        for item in sequence {
            guard case .scalar(let scalar) = item, !item.isNull else {
                report(item, "items of '\(key)' in \(what) must be strings")
                return nil
            }
            strings.append(scalar.string)
        }
        return strings
    }

    /// A mapping of strings to strings (`env`, `labels`, `metadata`, `ramdisks`).
    func stringMap(_ key: String) -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard let reader = MappingReader(file: file, node: value, what: "'\(key)'", sink: sink) else { return nil }
        var map: [String: String] = [:]
        for (name, keyNode, valueNode) in reader.entries {
            guard case .scalar = keyNode else { continue }
            guard let text = reader.scalarString(valueNode, name) else { continue }
            map[name] = text
        }
        return map
    }

    /// A nested mapping.
    func mapping(_ key: String, what nestedWhat: String? = nil) -> MappingReader? {
        guard let value = value(key) else { return nil }
        return MappingReader(file: file, node: value, what: nestedWhat ?? "'\(key)'", sink: sink)
    }
}

/// "Did you mean" for unknown field names (and the CLI's unknown subcommands and flags).
public enum Suggestions {
    public static func closest(to name: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(name.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { return nil }
        return best.1 <= max(1, min(3, best.0.count / 3)) ? best.0 : nil
    }

    /// Edit distance counting a swap of neighbours as one edit (optimal string alignment),
    /// so `imgae` is one edit from `image`.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
