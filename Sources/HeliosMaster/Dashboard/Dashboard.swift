import Crypto
import Foundation
import HeliosModel
import HeliosStore
import HTTPTypes
import Hummingbird
import Mustache

/// Who is looking at a dashboard page, as the access control found them.
struct DashboardSession: Sendable {
    var canDeploy: Bool
    var signedIn: Bool
    /// The form field that proves a POST came from one of this master's pages.
    var csrf: String
}

/// The web dashboard under `/ui` (`/` redirects there): server-rendered HTML that reads the
/// cluster through the same store reads and reply types as the JSON API, with every asset in
/// the binary. A browser signs in with an API token, kept in an HttpOnly, SameSite=Strict
/// cookie; actions are POSTs with a confirmation page and a CSRF field.
public struct Dashboard: Sendable {
    static let cookie = "helios_session"
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        // Not no-referrer: with it a form POST carries `Origin: null`, which the access control refuses.
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]

    let store: HeliosStore
    let access: APIAccessPolicy
    /// `--repo-browse-url`: a diagnostic's file:line links there.
    let browse: String?
    /// Whether the API is served over TLS: the session cookie is then `Secure`.
    let secure: Bool
    /// Signs CSRF fields; a new key per process (a form from another master's page is refused).
    let key = SymmetricKey(size: .bits256)

    /// The templates, parsed once.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, template) in DashboardTemplates.all {
            // The templates are compiled into the binary and tested: one that does not parse is a bug.
            try! library.register(template, named: name)
        }
        return library
    }()

    init(store: HeliosStore, access: APIAccessPolicy, browse: String?, secure: Bool) {
        self.store = store
        self.access = access
        self.browse = browse
        self.secure = secure
    }

    static func render(_ template: String, _ view: Any) -> String {
        library.render(view, withTemplate: template) ?? ""
    }

    /// The pages the large-cluster figures of `make bench` and the page-size test measure.
    public static let measuredPages = ["overview", "deployments", "deployment", "hosts", "host"]

    /// A page as served for `snapshot` (a deployment's and a host's: the first by name).
    public static func render(page name: String, of snapshot: ConfigSnapshot, now: Date = Date()) -> String {
        let session = DashboardSession(canDeploy: true, signedIn: true, csrf: "")
        switch name {
        case "overview":
            return render(name, DashboardPages.overview(snapshot, session: session, browse: nil, now: now))
        case "deployments":
            return render(name, DashboardPages.deployments(snapshot, filter: "", label: "", page: 1, session: session, now: now))
        case "deployment":
            let first = snapshot.config.deployments.keys.min() ?? ""
            return DashboardPages.deployment(first, snapshot, history: [:], session: session, now: now).map { render(name, $0) } ?? ""
        case "hosts":
            return render(name, DashboardPages.hosts(snapshot, page: 1, session: session, now: now))
        default:
            let first = snapshot.state.knownHosts.min() ?? ""
            return DashboardPages.host(first, snapshot, session: session, now: now).map { render("host", $0) } ?? ""
        }
    }

    func add(to router: Router<MasterContext>) {
        router.get("/") { _, _ in Response(status: .found, headers: [.location: "/ui"]) }
        router.get("/ui/assets/app.css") { _, _ in asset(DashboardTemplates.stylesheet, type: "text/css; charset=utf-8") }
        router.get("/ui/assets/live.js") { _, _ in asset(DashboardTemplates.script, type: "text/javascript; charset=utf-8") }
        router.get("/ui/login") { _, _ in page("login", ["common": common("Sign in")]) }
        router.post("/ui/login") { request, context -> Response in
            let form = try await Self.form(request, context)
            guard let token = form["token"], let known = access.tokens?.authenticate(token) else {
                return page("login", ["common": common("Sign in"), "error": "That token is not valid."], status: .unauthorized)
            }
            var headers = HTTPFields()
            headers[.location] = "/ui"
            headers[.setCookie] = "\(Self.cookie)=\(token); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
            try? await store.appendAudit(AuditEntry(actor: "token \(known.name)", action: "signed in to the dashboard", detail: ""))
            return Response(status: .seeOther, headers: headers)
        }
        router.post("/ui/logout") { request, context -> Response in
            guard try await verified(request, context) else { return refused() }
            var headers = HTTPFields()
            headers[.location] = "/ui/login"
            headers[.setCookie] = "\(Self.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return Response(status: .seeOther, headers: headers)
        }
        router.get("/ui") { _, context -> Response in
            let snapshot = try await store.readCluster()
            return page("overview", DashboardPages.overview(snapshot, session: session(context), browse: browse, now: Date()))
        }
        router.get("/ui/deployments") { request, context -> Response in
            let query = request.uri.queryParameters
            let snapshot = try await store.readCluster()
            return page("deployments", DashboardPages.deployments(
                snapshot, filter: query["filter"].map(String.init) ?? "", label: query["label"].map(String.init) ?? "",
                page: query["page"].flatMap { Int(String($0)) } ?? 1, session: session(context), now: Date()))
        }
        router.get("/ui/deployments/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            let snapshot = try await store.readCluster()
            var history: [String: [TaskStatus]] = [:]
            for (host, tasks) in snapshot.state.config.tasks {
                for task in tasks.values where task.deployment == name {
                    history[host] = try await store.taskHistory(task.jobID, host: host)
                }
            }
            guard let view = DashboardPages.deployment(name, snapshot, history: history, revisions: try await store.appliedRevisions(),
                                                       session: session(context), now: Date())
            else { return notFound("no deployment \(name)", context) }
            return page("deployment", view)
        }
        router.get("/ui/hosts") { request, context -> Response in
            let snapshot = try await store.readCluster()
            let number = request.uri.queryParameters["page"].flatMap { Int(String($0)) } ?? 1
            let infos = try await store.hostInfos(DashboardPages.hostNames(snapshot, page: number))
            return page("hosts", DashboardPages.hosts(snapshot, page: number, infos: infos, session: session(context), now: Date()))
        }
        router.get("/ui/hosts/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            let snapshot = try await store.readCluster()
            let info = try await store.hostInfos([name])[name]
            guard let view = DashboardPages.host(name, snapshot, info: info, session: session(context), now: Date()) else {
                return notFound("no host \(name)", context)
            }
            return page("host", view)
        }
        router.get("/ui/commits") { _, context -> Response in
            let view = DashboardPages.commits(try await store.syncRecord(), revisions: try await store.appliedRevisions(),
                                              rollouts: try await store.rolloutStatuses(), browse: browse,
                                              session: session(context), now: Date())
            return page("commits", view)
        }
        router.get("/ui/commits/:revision") { _, context -> Response in
            let revision = try context.parameters.require("revision")
            guard let applied = try await store.appliedRevisions().first(where: { $0.revision == revision }) else {
                return notFound("no applied revision \(revision) among the newest \(HeliosStore.revisionHistoryLimit)", context)
            }
            return page("commit", DashboardPages.commit(applied, rollouts: try await store.rolloutStatuses(),
                                                        session: session(context), now: Date()))
        }
        router.get("/ui/actions/sync") { _, context -> Response in
            guard session(context).canDeploy else { return refused() }
            return page("confirm", ["common": DashboardPages.common("Sync now", section: "", session: session(context), now: Date())])
        }
        router.post("/ui/actions/sync") { request, context -> Response in
            guard try await verified(request, context) else { return refused() }
            try await store.requestSync()
            try? await store.appendAudit(AuditEntry(actor: context.principal, action: "sync requested", detail: "from the dashboard"))
            return page("message", ["common": DashboardPages.common("Sync requested", section: "", session: session(context), now: Date()),
                                    "heading": "Sync requested", "text": "The leader fetches the repository now."])
        }
    }

    // MARK: Pieces

    func session(_ context: MasterContext) -> DashboardSession {
        DashboardSession(canDeploy: context.scopes.contains(.deploy), signedIn: context.sessionToken != nil,
                         csrf: csrf(for: context.sessionToken))
    }

    func common(_ title: String) -> DashboardPages.Common {
        DashboardPages.common(title, section: "", session: DashboardSession(canDeploy: false, signedIn: false, csrf: ""), now: Date())
    }

    func csrf(for token: String?) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data((token ?? "no token").utf8), using: key)).base64EncodedString()
    }

    /// A dashboard POST: the scope was checked by the access control; the CSRF field must be this
    /// master's for this session.
    func verified(_ request: Request, _ context: MasterContext) async throws -> Bool {
        let form = try await Self.form(request, context)
        guard let field = form["csrf"] else { return false }
        return APITokens.constantTimeEquals(Array(field.utf8), Array(csrf(for: context.sessionToken).utf8))
    }

    static func form(_ request: Request, _ context: MasterContext) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    func page(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: Self.render(template, view))))
    }

    func notFound(_ text: String, _ context: MasterContext) -> Response {
        page("message", ["common": DashboardPages.common("Not found", section: "", session: session(context), now: Date()),
                         "heading": "Not found", "text": text], status: .notFound)
    }

    func refused() -> Response {
        page("message", ["common": common("Refused"), "heading": "Refused",
                         "text": "This action needs a token with the deploy scope and a form from this master's page."],
             status: .forbidden)
    }

    func asset(_ text: String, type: String) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
