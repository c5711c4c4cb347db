import Foundation
import Hummingbird

/// Chooses the interface language for the request and remembers an explicit `?lang=` choice in
/// a cookie.
public struct LanguageMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let cookies: CookiePolicy

    public init(cookies: CookiePolicy) {
        self.cookies = cookies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let query = request.uri.queryParameters["lang"].map(String.init)
        context.language = Language.choose(
            query: query,
            cookie: request.cookies[cookies.language]?.value,
            acceptLanguage: request.headers[.acceptLanguage]
        )
        var response = try await next(request, context)
        if let query, let chosen = Language(code: query) {
            response.setCookie(cookies.cookie("kp_lang", value: chosen.rawValue, maxAge: 365 * 24 * 3600))
        }
        return response
    }
}
