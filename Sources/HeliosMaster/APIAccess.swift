import Crypto
import Foundation

/// What a token may do. Each includes the ones before it: `deploy` reads, `admin` deploys.
public enum APIScope: String, Sendable, CaseIterable, Comparable {
    /// GET every view.
    case read
    /// Plan, apply, sync, rollout actions.
    case deploy
    /// Everything.
    case admin

    public static func < (lhs: APIScope, rhs: APIScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The API's tokens, from `--api-tokens FILE`: one per line, `NAME SCOPE[,SCOPE…] sha256:HEX` —
/// a token's hash, never the token. `#` starts a comment.
public struct APITokens: Sendable {
    public struct Token: Sendable, Equatable {
        public let name: String
        public let scopes: Set<APIScope>
        let digest: [UInt8]

        /// Whether the token may do what `scope` covers.
        public func allows(_ scope: APIScope) -> Bool {
            scopes.contains { $0 >= scope }
        }
    }

    public let tokens: [Token]

    public init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// Parses a tokens file; the error names the line.
    public static func parse(_ text: String, file: String = "tokens") throws -> APITokens {
        var tokens: [Token] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard !fields.isEmpty else { continue }
            func failure(_ reason: String) -> TokensFileError { TokensFileError(file: file, line: index + 1, reason: reason) }
            guard fields.count == 3 else { throw failure("expected NAME SCOPES sha256:HEX") }
            let scopes = try fields[1].split(separator: ",").map { text in
                guard let scope = APIScope(rawValue: String(text)) else { throw failure("unknown scope '\(text)' (read, deploy, admin)") }
                return scope
            }
            guard fields[2].hasPrefix("sha256:"), let digest = hex(String(fields[2].dropFirst(7))), digest.count == 32 else {
                throw failure("the hash must be sha256: and 64 hex digits (`helios token create` writes such lines)")
            }
            guard !tokens.contains(where: { $0.name == fields[0] }) else { throw failure("token '\(fields[0])' is named twice") }
            tokens.append(Token(name: fields[0], scopes: Set(scopes), digest: digest))
        }
        return APITokens(tokens: tokens)
    }

    /// The token a request presents, if it is one of these. Every token's hash is compared in
    /// full, in constant time, whatever matched: the time says nothing about the tokens.
    public func authenticate(_ presented: String) -> Token? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var found: Token?
        for token in tokens where Self.constantTimeEquals(token.digest, digest) && found == nil {
            found = token
        }
        return found
    }

    /// A new random token (256 bits) and its line for the tokens file.
    public static func create(name: String, scopes: Set<APIScope>) -> (token: String, line: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = "helios_" + bytes.map { String(format: "%02x", $0) }.joined()
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let scopeList = APIScope.allCases.filter(scopes.contains).map(\.rawValue).joined(separator: ",")
        return (token, "\(name) \(scopeList) sha256:\(digest)")
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func hex(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// A tokens file that does not parse.
public struct TokensFileError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

/// Who may call the API: the tokens, and what is open without one.
public struct APIAccessPolicy: Sendable {
    /// nil: no tokens file — the master serves loopback only, and every call is allowed.
    public var tokens: APITokens?
    /// GETs without a token.
    public var anonymousRead = false
    /// `/metrics` without a token (for a Prometheus that cannot send one).
    public var openMetrics = false
    /// The Host names (with port) the master answers to; others are refused (DNS rebinding).
    public var hosts: Set<String> = []
    /// The secret webhooks are signed with (`--webhook-secret-file`): GitHub's
    /// `X-Hub-Signature-256` HMAC of the body, or GitLab's `X-Gitlab-Token`.
    public var webhookSecret: [UInt8]?

    public init(tokens: APITokens? = nil, anonymousRead: Bool = false, openMetrics: Bool = false, hosts: Set<String> = [],
                webhookSecret: [UInt8]? = nil) {
        self.tokens = tokens
        self.anonymousRead = anonymousRead
        self.openMetrics = openMetrics
        self.hosts = hosts
        self.webhookSecret = webhookSecret
    }

    /// Whether nothing asks for credentials (no tokens, no webhook secret: loopback only).
    var isOpen: Bool { tokens == nil && webhookSecret == nil }

    /// A webhook's proof, checked against the secret: GitHub's `sha256=HEX` HMAC-SHA256 of the
    /// body, or GitLab's token; nil when the request carries neither.
    func verifiesWebhook(signature: String?, gitlabToken: String?, body: [UInt8]) -> Bool? {
        guard signature != nil || gitlabToken != nil else { return nil }
        guard let secret = webhookSecret else { return false }
        if let signature {
            guard signature.hasPrefix("sha256="), let presented = APITokens.hex(String(signature.dropFirst(7))) else { return false }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
            return APITokens.constantTimeEquals(presented, expected)
        }
        return APITokens.constantTimeEquals(Array(gitlabToken!.utf8), secret)
    }

    /// What a request needs: nil for open ones.
    static func scope(method: String, path: String) -> APIScope? {
        // The dashboard's front door: its redirect, assets and sign-in page.
        if ["/healthz", "/", "/ui/login"].contains(path) || path.hasPrefix("/ui/assets/") { return nil }
        if path == "/ui/logout" { return .read }
        return method == "GET" || method == "HEAD" ? .read : .deploy
    }
}
