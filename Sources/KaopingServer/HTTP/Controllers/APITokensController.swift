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
        try await page(context: context)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            return try await page(context: context, extra: ["problem": context.language.text("tokens_name_needed")], status: .unprocessableContent)
        }
        let (id, token) = try await tokens.create(name: name, createdBy: context.user?.id)
        try await audit.record(
            .init(
                action: "api.token.created",
                actorUserID: context.user?.id,
                actorName: context.user?.username ?? "",
                subject: id.uuidString.lowercased(),
                details: ["name": name]
            )
        )
        // Shown once, on this response only; the database keeps its hash.
        var response = try await page(context: context, extra: ["newToken": token, "newName": name])
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

    private func page(context: AppRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await tokens.list()
        var values: [String: Any] = [
            "tokens": list.map { token -> [String: Any] in
                [
                    "id": token.id.uuidString.lowercased(), "name": token.name, "created": ChinaTime.format(token.createdAt),
                    "used": token.lastUsedOn ?? "–", "revoked": token.revoked,
                ]
            },
            "hasTokens": !list.isEmpty,
        ]
        values.merge(extra, uniquingKeysWith: { $1 })
        return try views.page("tokens", values, status: status, context: context)
    }
}
