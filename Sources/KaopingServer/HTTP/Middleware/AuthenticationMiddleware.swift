// Middleware: what runs around every handler or a group of them: metrics, the request log,
// security headers, language, error pages, CSRF, sign-in and roles, and loading a round once.

import Foundation
import Hummingbird

/// Admits signed-in, active accounts to the admin area and sends everyone else to the login
/// page, remembering where they were going.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let users: UserRepository

    public init(users: UserRepository) {
        self.users = users
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let session = context.sessions.session, let user = try await users.find(id: session.userID), user.active else {
            if context.sessions.session != nil { context.sessions.clearSession() }
            let target = request.method == .get ? request.uri.path : SiteURL.admin.path
            return .seeOther(.login, target == SiteURL.admin.path ? [:] : ["next": target])
        }
        // A password someone else chose (a one-time password on a printed sheet) is changed
        // before anything else is done with it.
        if user.mustChangePassword && request.uri.path != SiteURL.password.path && request.uri.path != SiteURL.logout.path {
            var response = Response.seeOther(.password)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        var context = context
        context.user = user
        var response = try await next(request, context)
        // Admin pages hold names and scores: never keep them in shared or back-button caches.
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// Lets through only the roles given; others get 403.
public struct RoleMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let roles: Set<UserRole>

    public init(_ roles: Set<UserRole>) {
        self.roles = roles
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let role = context.user?.role, roles.contains(role) else { throw AppError.forbidden }
        return try await next(request, context)
    }
}
