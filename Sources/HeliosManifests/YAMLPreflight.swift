import HeliosModel
// Yams ships libyaml as its CYaml module; the event parser is used here directly, before
// Yams composes anything. Not a declared product of Yams, but built and linked with it.
internal import CYaml
import Foundation

/// A pass over a manifest's YAML events, before it is composed into nodes: it refuses what
/// could make composing or walking the document explode.
///
/// Yams expands nothing, but it hashes mapping keys to find duplicates, and an alias used as
/// a key makes that exponential (a 9×9 "billion laughs" key took minutes). Manifests need no
/// anchors or aliases, so they are refused; the node count and the nesting depth are budgeted
/// (libyaml's scanner enforces the same depth, process-wide, for flow collections it reads
/// ahead). Duplicate keys are found here too, at the second occurrence.
enum YAMLPreflight {
    /// Nodes one file may hold: far beyond any real manifest.
    static let nodeBudget = 200_000
    /// Nesting depth a manifest may use.
    static let maxNesting = 64

    /// An open mapping or sequence.
    private struct Collection {
        var isMapping: Bool
        /// In a mapping: the next node is a key.
        var expectsKey = true
        /// In a mapping: the scalar keys seen, with their line.
        var keys: [String: Int] = [:]
    }

    private static let configured: Bool = {
        yaml_set_max_nest_level(Int32(maxNesting))
        return true
    }()

    /// The first problem found, or nil when the text may be composed.
    static func check(_ text: String, file: String) -> Diagnostic? {
        _ = configured
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return Diagnostic(file: file, line: 1, column: 1, message: "out of memory reading YAML")
        }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> Diagnostic? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var nodes = 0
            var open: [Collection] = []
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let mark = parser.problem_mark
                    var problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    if problem.hasPrefix("Maximum nesting level") {
                        problem = "nested deeper than \(maxNesting) levels"
                    } else if problem.contains("cannot start any token"), ManifestLoader.isTab(in: text, line: Int(mark.line) + 1,
                                                                                               column: Int(mark.column) + 1) {
                        problem = ManifestLoader.tabProblem
                    }
                    return Diagnostic(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1,
                                      message: "invalid YAML: \(problem)")
                }
                defer { yaml_event_delete(&event) }
                let mark = event.start_mark
                let position = (line: Int(mark.line) + 1, column: Int(mark.column) + 1)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    return Diagnostic(file: file, line: position.line, column: position.column,
                                      message: "YAML aliases are not allowed in manifests: write the value out")
                case YAML_SCALAR_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = switch event.type {
                    case YAML_SCALAR_EVENT: event.data.scalar.anchor
                    case YAML_SEQUENCE_START_EVENT: event.data.sequence_start.anchor
                    default: event.data.mapping_start.anchor
                    }
                    if anchor != nil {
                        return Diagnostic(file: file, line: position.line, column: position.column,
                                          message: "YAML anchors are not allowed in manifests: write the value out")
                    }
                    nodes += 1
                    if nodes > nodeBudget {
                        return Diagnostic(file: file, line: position.line, column: position.column,
                                          message: "more than \(nodeBudget) YAML nodes in one file")
                    }
                    if event.type == YAML_SCALAR_EVENT, let top = open.last, top.isMapping, top.expectsKey {
                        let key = String(cString: event.data.scalar.value)
                        if let first = open[open.count - 1].keys[key] {
                            return Diagnostic(file: file, line: position.line, column: position.column,
                                              message: "duplicate key '\(Printable.escape(key))' (first on line \(first))")
                        }
                        open[open.count - 1].keys[key] = position.line
                    }
                    // The node is a key or a value of the enclosing mapping: the next is the other.
                    if let top = open.last, top.isMapping { open[open.count - 1].expectsKey.toggle() }
                    if event.type != YAML_SCALAR_EVENT {
                        open.append(Collection(isMapping: event.type == YAML_MAPPING_START_EVENT))
                        if open.count > maxNesting {
                            return Diagnostic(file: file, line: position.line, column: position.column,
                                              message: "invalid YAML: nested deeper than \(maxNesting) levels")
                        }
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    open.removeLast()
                default:
                    continue
                }
            }
        }
    }
}
