/// Env values that must never be printed or leave the master in an API reply.
public enum Secrets {
    /// What is shown instead of a secret value.
    public static let mask = "(sensitive)"

    /// Name parts that mark a secret: `DB_PASS`, `API_TOKEN`, `GITHUB_PAT`, `AWS_SECRET_ACCESS_KEY`, …
    static let nameParts = ["SECRET", "PASS", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "SIGNATURE", "COOKIE", "SESSION"]
    /// Whole words (between `_`) that mark one: `GITHUB_PAT`, `DB_PWD`.
    static let nameWords: Set<String> = ["PAT", "PWD", "PW", "DSN", "SALT"]
    /// Prefixes of well-known tokens (GitHub, GitLab, Slack, AWS, Stripe, npm).
    static let tokenPrefixes = ["ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "AKIA", "sk_live_", "npm_"]

    /// Whether env `name` (with `value`, when known) holds a secret: by its name, or by a value
    /// that carries one (`postgres://app:s3cr3t@db/app`, a private key, a known token).
    public static func isSensitive(_ name: String, value: String? = nil) -> Bool {
        let upper = name.uppercased()
        if nameParts.contains(where: upper.contains) { return true }
        if upper.split(separator: "_").contains(where: { nameWords.contains(String($0)) }) { return true }
        guard let value else { return false }
        if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") { return true }
        if tokenPrefixes.contains(where: value.hasPrefix) { return true }
        // A URL with a password in it: scheme://user:password@host
        if let scheme = value.range(of: "://"), let at = value[scheme.upperBound...].firstIndex(of: "@"),
           value[scheme.upperBound..<at].contains(":") { return true }
        return false
    }
}
