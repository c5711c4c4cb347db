import Foundation
import Hummingbird
import Mustache

/// Renders the Mustache templates bundled with the server.
///
/// Every page gets the same base values (language, text catalogue, signed-in user, CSRF token)
/// so that templates never need to be told them by each handler.
public struct Views: Sendable {
    let library: MustacheLibrary

    public init(directory: String = Resources.path("templates")) async throws {
        self.library = try await MustacheLibrary(directory: directory)
    }

    /// Renders `template` with a page model: the model's stored properties, then the frame
    /// every page has (`PageFrame`), are what the template's names refer to.
    func render<Model: PageModel>(_ template: String, _ model: Model, context: AppRequestContext) throws -> String {
        let page = RenderedPage(model: model, frame: PageFrame(context: context))
        guard let html = library.render(page, withTemplate: template) else {
            throw ViewError.missingTemplate(template)
        }
        return html
    }

    func page<Model: PageModel>(
        _ template: String,
        _ model: Model,
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    ) throws -> Response {
        HTMLPage(html: try render(template, model, context: context), status: status).response
    }
}

/// The data of one page, a struct whose stored properties its template names (`Views/Pages/`).
/// Only such types render: a page cannot be handed a loose dictionary.
protocol PageModel {}

/// What every page shows besides its own content: the language and its texts, the CSRF token
/// for its forms, the signed-in account, and the links of the header and the navigation.
struct PageFrame {
    let lang: String
    let t: [String: String]
    let csrf: String
    let year: Int
    let user: SignedInUser?
    let siteLinks = FrameLinks()

    init(context: AppRequestContext) {
        lang = context.language.rawValue
        t = context.language.strings
        csrf = context.csrfToken
        year = Calendar(identifier: .gregorian).component(.year, from: .now)
        user = context.user.map { SignedInUser($0, language: context.language) }
    }
}

/// The signed-in account as the header shows it.
struct SignedInUser {
    let username: String
    let displayName: String
    let role: String
    let isAdmin: Bool
    let isEvaluator: Bool

    init(_ user: User, language: Language) {
        username = user.username
        displayName = user.displayName.isEmpty ? user.username : user.displayName
        role = language.text("role_\(user.role.rawValue)")
        isAdmin = user.role == .admin
        isEvaluator = user.role == .evaluator
    }
}

/// The links of the header and the navigation (`{{siteLinks.rounds}}`; a distinct name, so that
/// a page model's own `links` cannot hide them).
struct FrameLinks {
    let home = SiteURL.admin.path
    let rounds = SiteURL.rounds.path
    let appraisals = SiteURL.appraisals.path
    let sheets = SiteURL.sheets.path
    let organisation = SiteURL.organisation.path
    let forms = SiteURL.forms.path
    let tokens = SiteURL.tokens.path
    let accounts = SiteURL.accounts.path
    let password = SiteURL.password.path
    let logout = SiteURL.logout.path
    let staticFiles = SiteURL.staticFiles.path
}

/// A page model inside the frame: a name is looked up in the model first, then in the frame.
///
/// Models are plain structs whose stored properties the templates name; computed properties
/// are invisible to the template (it reads through `Mirror`), so models store what they show.
struct RenderedPage<Model: PageModel>: MustacheParent {
    let model: Model
    let frame: PageFrame

    func child(named name: String) -> Any? {
        Self.value(name, in: model) ?? Self.value(name, in: frame)
    }

    private static func value(_ name: String, in object: Any) -> Any? {
        guard let child = Mirror(reflecting: object).children.first(where: { $0.label == name }) else { return nil }
        let mirror = Mirror(reflecting: child.value)
        guard mirror.displayStyle == .optional else { return child.value }
        return mirror.children.first?.value
    }
}

public enum ViewError: Error {
    case missingTemplate(String)
}

/// An HTML response.
public struct HTMLPage: ResponseGenerator {
    public let html: String
    public let status: HTTPResponse.Status

    public init(html: String, status: HTTPResponse.Status = .ok) {
        self.html = html
        self.status = status
    }

    public var response: Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }
}

/// Files bundled with the server (templates, stylesheets).
public enum Resources {
    public static func path(_ name: String) -> String {
        guard let base = Bundle.module.resourceURL else { return name }
        return base.appendingPathComponent(name).path
    }
}

extension Response {
    /// A 303 redirect: after a form post the browser fetches the target with GET.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `attachment` with the name people should see (Chinese, say), and a plain ASCII one for
    /// clients that do not read RFC 6266's `filename*`.
    static func attachment(_ display: String, fallback: String) -> String {
        let encoded = display.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
