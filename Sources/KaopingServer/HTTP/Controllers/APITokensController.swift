import Foundation
import Hummingbird

/// API tokens in the admin area: the list, a form that creates one (shown once), revoking.
public struct APITokensController: Sendable {
    let tokens: APITokenRepository
    let audit: AuditLog
    let views: Views

    public init(tokens: APITokenRepository, audit: AuditLog, views: Views) {
        self.tokens = tokens
        self.audit = audit
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.tokens.route, use: index)
        router.post(SiteURL.tokens.route, use: create)
        router.post(SiteURL.tokenRevoke(SiteURL.id).route, use: revoke)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("tokens", TokensPage(try await tokens.list()), context: context)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            let page = TokensPage(try await tokens.list(), problem: context.language.text("tokens_name_needed"))
            return try views.page("tokens", page, status: .unprocessableContent, context: context)
        }
        let scope: APIScope = form["write"] != nil ? .write : .read
        let (id, token) = try await tokens.create(name: name, scope: scope, createdBy: context.user?.id)
        try await audit.record(
            .init(
                action: "api.token.created",
                actorUserID: context.user?.id,
                actorName: context.user?.username ?? "",
                subject: id.uuidString.lowercased(),
                details: ["name": name, "scope": scope.rawValue]
            )
        )
        // Shown once, on this response only; the database keeps its hash.
        var response = try views.page("tokens", TokensPage(try await tokens.list(), newToken: token, newName: name), context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), try await tokens.revoke(id: id) else { throw AppError.notFound }
        try await audit.record(
            .init(
                action: "api.token.revoked",
                actorUserID: context.user?.id,
                actorName: context.user?.username ?? "",
                subject: id.uuidString.lowercased()
            )
        )
        return .seeOther(.tokens)
    }
}
