import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Rejects state-changing form posts that did not come from one of our own pages.
///
/// Every form carries a token in a hidden `_csrf` field, and a POST whose token is not the one
/// this browser's pages were given is refused. The token is not a cookie's value but a keyed
/// hash of one, under a key derived from the server's secret: of the administrator's session
/// cookie when there is one, else of a random per-browser cookie. So a token changes at sign-in
/// and sign-out, a token from before sign-in or from another session is refused, and a cookie
/// planted from elsewhere (a sibling subdomain, a plain-HTTP page) gives its planter no token
/// they could send, since they cannot compute the hash. Another site can make a browser post,
/// but cannot read a page of ours to learn the token. `/api/` routes use bearer tokens, not
/// cookies, and are exempt.
public struct CSRFMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    public static let fieldName = "_csrf"
    let cookies: CookiePolicy
    let routes: RouteCatalog
    let key: SymmetricKey

    /// `secret` is the server's secret (the one invitation tokens come from); the key is
    /// derived from it for this use alone.
    public init(cookies: CookiePolicy, routes: RouteCatalog, secret: [UInt8]) {
        self.cookies = cookies
        self.routes = routes
        self.key = SymmetricKey(
            data: Array(HMAC<SHA256>.authenticationCode(for: Array("kaoping csrf tokens".utf8), using: SymmetricKey(data: secret)))
        )
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let browser = request.cookies[cookies.csrf].flatMap { Self.isWellFormed($0.value) ? $0.value : nil }
        let browserCookie = browser ?? Hex.random(bytes: 32)
        let session = request.cookies[cookies.session]?.value
        let token = self.token(session: session, browser: browserCookie)
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
            // A browser without its cookie yet was never shown a page with a token to send.
            guard browser != nil || session != nil, let sent, Self.constantTimeEquals(token, sent) else {
                throw AppError.csrfRejected
            }
        }
        var response = try await next(request, context)
        if browser == nil {
            response.setCookie(cookies.cookie("kp_csrf", value: browserCookie))
        }
        return response
    }

    /// The token for a browser: bound to its session once it has one.
    func token(session: String?, browser: String) -> String {
        let bound = session.map { "session:" + $0 } ?? "browser:" + browser
        return Hex.string(Array(HMAC<SHA256>.authenticationCode(for: Array(bound.utf8), using: key)))
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
