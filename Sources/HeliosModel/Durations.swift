/// Durations as manifests write them: `500ms`, `5s`, `2m`, `1h`.
public enum Durations {
    /// Milliseconds from `500ms`, `5s`, `2m`, `1h`; nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let value = Int64(digits), value <= Int64.max / factor else { return nil }
            return value * factor
        }
        return nil
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
}
