/// Where a node starts in its file, 1-based (libyaml counts columns in Unicode scalars).
struct Mark: Sendable, Equatable {
    let line: Int
    let column: Int
}

/// A YAML node as the manifest readers see it, composed straight from libyaml's events by
/// `YAMLComposer`: scalars keep their text, quoting style and position; mappings keep their
/// entries in document order. Tags are not kept (manifests need none).
enum Node: Sendable {
    struct Scalar: Sendable {
        enum Style: Sendable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        let string: String
        let style: Style
        let mark: Mark
    }

    case scalar(Scalar)
    case mapping([(key: Node, value: Node)], mark: Mark)
    case sequence([Node], mark: Mark)

    var mark: Mark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }

    var mapping: [(key: Node, value: Node)]? {
        if case .mapping(let pairs, _) = self { pairs } else { nil }
    }

    var sequence: [Node]? {
        if case .sequence(let items, _) = self { items } else { nil }
    }

    /// A scalar's text, whatever its style.
    var string: String? {
        if case .scalar(let scalar) = self { scalar.string } else { nil }
    }

    /// A scalar YAML 1.1 reads as a boolean (true/false, yes/no, on/off in any case), unquoted.
    var bool: Bool? {
        guard case .scalar(let scalar) = self, scalar.style == .plain else { return nil }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// A plain scalar that means null: empty, `~`, `null`. A quoted `''` or `'null'` is a string.
    var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}
