/// A condition on a host's labels, in Helios' grammar:
/// `key=value`, `key!=value`, `key in (a, b)`, `key notin (a, b)`.
public struct HostSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, Codable {
        case equals = "="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
    }

    public var label: String
    public var `operator`: Operator
    public var values: [String]

    public init(label: String, operator: Operator, values: [String]) {
        self.label = label
        self.operator = `operator`
        self.values = values
    }

    /// Parses one selector; throws a message saying what is wrong.
    public init(parsing text: String) throws(SelectorError) {
        let trimmed = text.trimmingWhitespace()
        for wrong in ["==", "!==", "=!"] where trimmed.contains(wrong) {
            let fixed = trimmed.replacingOccurrences(of: wrong, with: wrong.hasPrefix("!") ? "!=" : "=")
            throw SelectorError(message: "invalid host selector '\(text)': '\(wrong)' is no operator (did you mean '\(fixed)'?)")
        }
        if let range = trimmed.range(of: "!=") {
            self.init(label: String(trimmed[..<range.lowerBound]).trimmingWhitespace(), operator: .notEquals,
                      values: [String(trimmed[range.upperBound...]).trimmingWhitespace()])
        } else if let range = trimmed.range(of: "=") {
            self.init(label: String(trimmed[..<range.lowerBound]).trimmingWhitespace(), operator: .equals,
                      values: [String(trimmed[range.upperBound...]).trimmingWhitespace()])
        } else {
            let words = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
            guard words.count == 3, let op = Operator(rawValue: words[1]), op == .in || op == .notIn else {
                throw SelectorError(message: "invalid host selector '\(text)' (expected key=value, key!=value, key in (a, b) or key notin (a, b))")
            }
            let list = words[2].trimmingWhitespace()
            guard list.hasPrefix("("), list.hasSuffix(")") else {
                throw SelectorError(message: "invalid host selector '\(text)': the values of '\(op.rawValue)' go in parentheses, e.g. (a, b)")
            }
            let values = list.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingWhitespace() }
            self.init(label: words[0], operator: op, values: values)
        }
        guard Names.isValidLabelKey(label) else {
            throw SelectorError(message: "invalid host selector '\(text)': bad label key '\(label)'")
        }
        guard !values.isEmpty, values.allSatisfy({ !$0.isEmpty }) else {
            throw SelectorError(message: "invalid host selector '\(text)': a value is missing")
        }
        // Label values are letters, digits, '-', '_' and '.': anything else is a typo that would match no host.
        if let odd = values.first(where: { !$0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) } }) {
            throw SelectorError(message: "invalid host selector '\(text)': '\(odd)' is not a label value (letters, digits, '-', '_', '.')")
        }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[label]
        switch `operator` {
        case .equals: return value == values[0]
        case .notEquals: return value != values[0]
        case .in: return value.map(values.contains) ?? false
        case .notIn: return value.map { !values.contains($0) } ?? true
        }
    }

    public var description: String {
        switch `operator` {
        case .equals, .notEquals: "\(label)\(`operator`.rawValue)\(values[0])"
        case .in, .notIn: "\(label) \(`operator`.rawValue) (\(values.joined(separator: ", ")))"
        }
    }
}

/// A host selector that does not parse.
public struct SelectorError: Error, Sendable {
    public let message: String
}

/// What the cluster knows of a host.
public struct HostState: Sendable, Equatable, Codable {
    public var labels: [String: String]
    /// UP while its agent holds a ZooKeeper session.
    public var up: Bool

    public init(labels: [String: String] = [:], up: Bool = true) {
        self.labels = labels
        self.up = up
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}
