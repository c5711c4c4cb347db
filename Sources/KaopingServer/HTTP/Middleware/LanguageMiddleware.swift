import Foundation
import Hummingbird

/// Chooses the interface language for the request and remembers an explicit `?lang=` choice in
/// a cookie.
public struct LanguageMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let secureCookies: Bool

    public init(secureCookies: Bool) {
        self.secureCookies = secureCookies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let query = request.uri.queryParameters["lang"].map(String.init)
        context.language = Language.choose(
            query: query,
            cookie: request.cookies["kp_lang"]?.value,
            acceptLanguage: request.headers[.acceptLanguage]
        )
        var response = try await next(request, context)
        if let query, let chosen = Language(code: query) {
            response.setCookie(
                Cookie(
                    name: "kp_lang",
                    value: chosen.rawValue,
                    maxAge: 365 * 24 * 3600,
                    path: "/",
                    secure: secureCookies,
                    httpOnly: true,
                    sameSite: .lax
                )
            )
        }
        return response
    }
}
