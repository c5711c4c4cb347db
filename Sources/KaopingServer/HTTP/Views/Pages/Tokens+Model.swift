import Foundation

/// API tokens: the list, the form for a new one, and a new token shown once.
struct TokensPage: PageModel {
    struct Row {
        let name: String
        /// What the token may do, in words.
        let scope: String
        let maker: String
        let created: String
        let used: String
        let revoked: Bool
        /// What the state column says of a token that is not revoked.
        let state: String
        let revoke: String
    }

    let tokens: [Row]
    let hasTokens: Bool
    let create = SiteURL.tokens.path
    let openAPI = SiteURL.apiOpenAPI.path
    let problem: String?
    let newToken: String?
    let newName: String?

    init(_ tokens: [APIToken], language: Language, problem: String? = nil, newToken: String? = nil, newName: String? = nil) {
        self.tokens = tokens.map { token in
            Row(
                name: token.name,
                scope: language.text("tokens_scope_\(token.scope.rawValue)"),
                maker: token.maker ?? language.text("tokens_maker_command_line"),
                created: ChinaTime.format(token.createdAt),
                used: token.lastUsedOn ?? "–",
                revoked: token.state == .revoked,
                state: language.text(token.state == .makerWithoutAccess ? "tokens_state_maker_without_access" : "tokens_state_live"),
                revoke: SiteURL.tokenRevoke(token.id.lowercased).path
            )
        }
        hasTokens = !tokens.isEmpty
        self.problem = problem
        self.newToken = newToken
        self.newName = newName
    }
}
