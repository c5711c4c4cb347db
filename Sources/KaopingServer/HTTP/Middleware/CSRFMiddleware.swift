import Foundation
import HTTPTypes
import Hummingbird

/// Rejects state-changing form posts that did not come from one of our own pages.
///
/// Double-submit: each browser gets a random token in an HttpOnly, SameSite=Lax cookie, every
/// form carries the same token in a hidden `_csrf` field, and a POST whose field does not
/// match its cookie is refused. Another site can make a browser post, but it can neither read
/// the cookie nor, with SameSite=Lax, have it sent along with a cross-site POST.
/// `/api/` routes use bearer tokens, not cookies, and are exempt.
public struct CSRFMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    public static let cookieName = "kp_csrf"
    public static let fieldName = "_csrf"
    let secureCookies: Bool
    let routes: RouteCatalog

    public init(secureCookies: Bool, routes: RouteCatalog) {
        self.secureCookies = secureCookies
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let existing = request.cookies[Self.cookieName].flatMap { Self.isWellFormed($0.value) ? $0.value : nil }
        let token = existing ?? Self.newToken()
        context.csrfToken = token

        let unsafe = ![.get, .head, .options].contains(request.method)
        // Requests no route takes are left for the router to answer 404 or 405.
        if unsafe && !request.uri.path.hasPrefix(SiteURL.apiPrefix) && routes.methods(matching: request.uri.path).contains(request.method) {
            let sent: String?
            if let header = request.headers[.xCSRFToken] {
                sent = header
            } else if MultipartForm.isMultipart(request.headers[.contentType]) {
                sent = try await MultipartForm.read(&request, limit: context.maxUploadSize).text(Self.fieldName)
            } else {
                sent = try await request.formData(context: context)[Self.fieldName]
            }
            guard let existing, let sent, Self.constantTimeEquals(existing, sent) else {
                throw AppError.csrfRejected
            }
        }
        var response = try await next(request, context)
        if existing == nil {
            response.setCookie(Cookie(name: Self.cookieName, value: token, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
        }
        return response
    }

    static func newToken() -> String {
        Hex.random(bytes: 32)
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.count == 64 && token.allSatisfy(\.isHexDigit)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

extension HTTPField.Name {
    static let xCSRFToken = Self("X-CSRF-Token")!
}
