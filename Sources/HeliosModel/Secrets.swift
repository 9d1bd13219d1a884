/// Env names whose values must never be printed: `*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*KEY*`.
public enum Secrets {
    public static func isSensitive(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["SECRET", "PASSWORD", "TOKEN", "KEY"].contains { upper.contains($0) }
    }
}
