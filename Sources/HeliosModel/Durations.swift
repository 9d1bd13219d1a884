/// Durations as manifests write them: `500ms`, `5s`, `2m`, `1h`.
public enum Durations {
    /// Milliseconds from `500ms`, `5s`, `2m`, `1h`, and Go's forms `1h30m`, `1.5m`, `2m30s`;
    /// nil for anything else (or a fraction of a millisecond).
    public static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        var rest = Substring(text)
        var total: Double = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number.first != ".", number.last != ".", number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (suffix, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(suffix.count)
            total += value * factor
        }
        guard total <= Double(Int64.max / 2), total == total.rounded() else { return nil }
        return Int64(total)
    }

    /// The shortest exact spelling: 300000 → `5m`, 1500 → `1500ms`.
    public static func format(_ milliseconds: Int64) -> String {
        for (suffix, factor) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1_000)]
            where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return milliseconds == 0 ? "0s" : "\(milliseconds)ms"
    }
}

/// Sizes as manifests write them: `256Mi`, `1Gi`, `512Ki`, or plain bytes.
public enum Sizes {
    public static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
                                        ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Int64(text.dropLast(suffix.count)), value >= 0, value <= Int64.max / factor else { return nil }
            return value * factor
        }
        guard let bytes = Int64(text), bytes >= 0 else { return nil }
        return bytes
    }

    /// The largest binary unit `bytes` is a whole number of: 536870912 → `512Mi`; plain bytes else.
    public static func format(_ bytes: Int64) -> String {
        for (suffix, factor) in [("Ti", Int64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
            where bytes != 0 && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)"
    }
}
