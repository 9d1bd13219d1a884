import HeliosModel
// Yams ships libyaml as its CYaml module; its event parser is used here directly. Not a
// declared product of Yams, but built and linked with it.
internal import CYaml
import Foundation

/// Composes a manifest's YAML into `Node`s in one pass over libyaml's events, refusing on the
/// way what could make composing or walking the document explode, and saying where.
///
/// Manifests need no anchors or aliases (an alias used as a key makes a naive duplicate check
/// exponential: a 9×9 "billion laughs" key took minutes), so they are refused; the node count
/// and the nesting depth are budgeted (libyaml's scanner enforces the same depth, process-wide,
/// for flow collections it reads ahead). A duplicate key is refused at its second occurrence.
/// One pass, values instead of classes: a tenth of what composing through Yams cost.
enum YAMLComposer {
    /// Nodes one file may hold: far beyond any real manifest.
    static let nodeBudget = 200_000
    /// Nesting depth a manifest may use.
    static let maxNesting = 64

    /// Why a text cannot be composed, with where.
    struct Refusal: Error {
        let diagnostic: Diagnostic
    }

    /// An open mapping or sequence.
    private struct Collection {
        var isMapping: Bool
        var mark: Mark
        var items: [Node] = []
        var pairs: [(key: Node, value: Node)] = []
        /// In a mapping: the key whose value comes next.
        var key: Node?
        /// In a mapping: the scalar keys seen, with their line.
        var keys: [String: Int] = [:]

        var node: Node { isMapping ? .mapping(pairs, mark: mark) : .sequence(items, mark: mark) }
    }

    private static let configured: Bool = {
        yaml_set_max_nest_level(Int32(maxNesting))
        return true
    }()

    /// The documents of `text`, or the first problem found in it.
    static func compose(_ text: String, file: String) -> Result<[Node], Refusal> {
        _ = configured
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return .failure(Refusal(diagnostic: Diagnostic(file: file, line: 1, column: 1, message: "out of memory reading YAML")))
        }
        defer { yaml_parser_delete(&parser) }
        var bytes = text // the same storage: libyaml reads it in place
        return bytes.withUTF8 { buffer -> Result<[Node], Refusal> in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var documents: [Node] = []
            var nodes = 0
            var open: [Collection] = []
            func problem(_ mark: Mark, _ message: String) -> Result<[Node], Refusal> {
                .failure(Refusal(diagnostic: Diagnostic(file: file, line: mark.line, column: mark.column, message: message)))
            }
            /// A node is done: the document's root, or the next item, key or value of the collection it is in.
            func finished(_ node: Node) {
                guard !open.isEmpty else { return documents.append(node) }
                let top = open.count - 1
                if !open[top].isMapping {
                    open[top].items.append(node)
                } else if let key = open[top].key {
                    open[top].pairs.append((key, node))
                    open[top].key = nil
                } else {
                    open[top].key = node
                }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let mark = Mark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
                    var message = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    if message.hasPrefix("Maximum nesting level") {
                        message = "nested deeper than \(maxNesting) levels"
                    } else if message.contains("cannot start any token"), ManifestLoader.isTab(in: text, line: mark.line, column: mark.column) {
                        message = ManifestLoader.tabProblem
                    }
                    return problem(mark, "invalid YAML: \(message)")
                }
                defer { yaml_event_delete(&event) }
                let mark = Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return .success(documents)
                case YAML_ALIAS_EVENT:
                    return problem(mark, "YAML aliases are not allowed in manifests: write the value out")
                case YAML_SCALAR_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = switch event.type {
                    case YAML_SCALAR_EVENT: event.data.scalar.anchor
                    case YAML_SEQUENCE_START_EVENT: event.data.sequence_start.anchor
                    default: event.data.mapping_start.anchor
                    }
                    if anchor != nil {
                        return problem(mark, "YAML anchors are not allowed in manifests: write the value out")
                    }
                    nodes += 1
                    if nodes > nodeBudget {
                        return problem(mark, "more than \(nodeBudget) YAML nodes in one file")
                    }
                    guard event.type == YAML_SCALAR_EVENT else {
                        open.append(Collection(isMapping: event.type == YAML_MAPPING_START_EVENT, mark: mark))
                        if open.count > maxNesting {
                            return problem(mark, "invalid YAML: nested deeper than \(maxNesting) levels")
                        }
                        continue
                    }
                    let scalar = event.data.scalar
                    let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                    if let top = open.last, top.isMapping, top.key == nil {
                        if let first = top.keys[value] {
                            return problem(mark, "duplicate key '\(Printable.escape(value))' (first on line \(first))")
                        }
                        open[open.count - 1].keys[value] = mark.line
                    }
                    finished(.scalar(Node.Scalar(string: value, style: style(scalar.style), mark: mark)))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    finished(open.removeLast().node)
                default:
                    continue
                }
            }
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> Node.Scalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
