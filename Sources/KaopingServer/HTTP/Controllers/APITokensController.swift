import Foundation
import Hummingbird

/// API tokens in the admin area: the list, a form that creates one (shown once), revoking.
public struct APITokensController: Sendable {
    let tokens: TokenService
    let views: Views

    public init(tokens: TokenService, views: Views) {
        self.tokens = tokens
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.tokens.route, use: index)
        router.post(SiteURL.tokens.route, use: create)
        router.post(SiteURL.tokenRevoke(SiteURL.id).route, use: revoke)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("tokens", TokensPage(try await tokens.list(), language: context.language), context: context)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let scope: APIScope = form["scope"].flatMap(APIScope.init(rawValue:)) ?? (form["write"] != nil ? .write : .read)
        guard let issued = try await tokens.issue(name: form["name"] ?? "", scope: scope, actor: context.auditActor, logger: context.logger) else {
            let page = TokensPage(try await tokens.list(), language: context.language, problem: context.language.text("tokens_name_needed"))
            return try views.page("tokens", page, status: .unprocessableContent, context: context)
        }
        // Shown once, on this response only; the database keeps its hash.
        let name = TokenService.name(form["name"] ?? "") ?? ""
        var response = try views.page(
            "tokens",
            TokensPage(try await tokens.list(), language: context.language, newToken: issued.token, newName: name),
            context: context
        )
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
            try await tokens.revoke(id: id, actor: context.auditActor, logger: context.logger)
        else { throw AppError.notFound }
        return .seeOther(.tokens)
    }
}
