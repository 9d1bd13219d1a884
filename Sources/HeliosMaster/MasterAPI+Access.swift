import Foundation
import HTTPTypes
import Hummingbird

/// The API's door: the Host a request names (no DNS rebinding), its Origin (no cross-site
/// request), a write's Content-Type (no "simple" cross-site POST), and its token and scope.
/// Refusals are JSON errors: 401 without a (valid) token, 403 without the scope or from
/// elsewhere, 415 for a write that is not JSON. Tokens never reach a log.
struct AccessControl: RouterMiddleware {
    let policy: APIAccessPolicy

    static let githubSignature = HTTPField.Name("X-Hub-Signature-256")!
    static let gitlabToken = HTTPField.Name("X-Gitlab-Token")!

    func handle(_ request: Request, context: MasterContext,
                next: (Request, MasterContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let host = request.head.authority
        if !policy.hosts.isEmpty, path != "/healthz" {
            guard let host, policy.hosts.contains(host.lowercased()) else {
                return MasterAPI.error("this master does not serve the host '\(host ?? "")'", status: .forbidden)
            }
        }
        if let origin = request.headers[.origin], !Self.isSameOrigin(origin, host: host) {
            return MasterAPI.error("cross-origin requests are refused", status: .forbidden)
        }
        var request = request
        if request.method == .post {
            let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            // A POST without a body (a webhook's ping, `curl -X POST`) carries no type; one with a body must be
            // JSON (a forge's webhook may also send a form: it is signed).
            let hasBody = (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0 || request.headers[.transferEncoding] != nil
            // The dashboard's forms too: they carry a CSRF field, checked by the dashboard.
            let allowed = path == "/v1/sync" || path.hasPrefix("/ui/") ? ["application/json", "application/x-www-form-urlencoded"] : ["application/json"]
            if hasBody || type != nil, !allowed.contains(type ?? "") {
                return MasterAPI.error("a write takes Content-Type: application/json", status: .unsupportedMediaType)
            }
            if path == "/v1/sync", !policy.isOpen {
                let body = try await request.body.collect(upTo: context.maxUploadSize)
                request.body = RequestBody(buffer: body)
                switch policy.verifiesWebhook(signature: request.headers[Self.githubSignature],
                                              gitlabToken: request.headers[Self.gitlabToken],
                                              body: Array(buffer: body)) {
                case true?:
                    var context = context
                    context.principal = request.headers[Self.githubSignature] != nil
                        ? "webhook (GitHub signature)" : "webhook (GitLab token)"
                    return try await next(request, context)
                case false?: return Self.unauthorized("the webhook's signature does not match its body and the shared secret")
                case nil: break // no signature: a bearer token with deploy, below
                }
            }
        }
        guard !policy.isOpen, let scope = APIAccessPolicy.scope(method: request.method.rawValue, path: path) else {
            return try await next(request, context)
        }
        let page = path == "/ui" || path.hasPrefix("/ui/")
        guard let tokens = policy.tokens else {
            return Self.unauthorized("this master takes only signed webhooks (no --api-tokens)")
        }
        let open = scope == .read && (policy.anonymousRead || path == "/metrics" && policy.openMetrics)
        // A token in the header, or the dashboard's session cookie.
        let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" }
            ?? Self.cookie(Dashboard.cookie, in: request.headers[.cookie])
        guard let presented else {
            var context = context
            context.scopes = [.read]
            if open { return try await next(request, context) }
            return page ? Self.signIn() : Self.unauthorized("this call needs a token: Authorization: Bearer …")
        }
        guard let token = tokens.authenticate(presented) else {
            return page ? Self.signIn() : Self.unauthorized("the token is not valid")
        }
        guard token.allows(scope) else {
            return MasterAPI.error("token '\(token.name)' lacks the \(scope.rawValue) scope", status: .forbidden)
        }
        var context = context
        context.principal = "token \(token.name)"
        context.scopes = Set(APIScope.allCases.filter(token.allows))
        context.sessionToken = presented
        return try await next(request, context)
    }

    /// The dashboard's way to say "sign in first".
    static func signIn() -> Response {
        Response(status: .seeOther, headers: [.location: "/ui/login"])
    }

    /// The value of cookie `name` in a `Cookie` header.
    static func cookie(_ name: String, in header: String?) -> String? {
        header?.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func unauthorized(_ message: String) -> Response {
        var response = MasterAPI.error(message, status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    /// `http://127.0.0.1:5801` for the Host `127.0.0.1:5801`: the page was served by this master.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let url = URL(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }
}
