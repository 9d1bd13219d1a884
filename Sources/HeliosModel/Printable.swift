/// Text from a manifest, a commit or a remote made safe to print: control characters (ESC, CR,
/// backspace, C1 codes, …) shown as escapes, so no value can move the cursor, rewrite a line of
/// a plan or hide one in a terminal or a CI log.
public enum Printable {
    /// One line of it: newlines and tabs escaped too, cut after `limit` characters.
    public static func escape(_ text: String, limit: Int = 60) -> String {
        let escaped = text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        let safe = lines(escaped)
        return safe.count > limit ? String(safe.prefix(limit)) + "…" : safe
    }

    /// Text of several lines: newlines kept, every other control character escaped.
    public static func lines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\n" && (scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value))
    }
}
