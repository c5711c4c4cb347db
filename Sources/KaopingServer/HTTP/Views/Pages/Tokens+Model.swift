import Foundation

/// API tokens: the list, the form for a new one, and a new token shown once.
struct TokensPage: PageModel {
    struct Row {
        let name: String
        let writes: Bool
        let created: String
        let used: String
        let revoked: Bool
        let revoke: String
    }

    let tokens: [Row]
    let hasTokens: Bool
    let create = SiteURL.tokens.path
    let openAPI = SiteURL.apiOpenAPI.path
    let problem: String?
    let newToken: String?
    let newName: String?

    init(_ tokens: [APIToken], problem: String? = nil, newToken: String? = nil, newName: String? = nil) {
        self.tokens = tokens.map { token in
            Row(
                name: token.name,
                writes: token.scope == .write,
                created: ChinaTime.format(token.createdAt),
                used: token.lastUsedOn ?? "–",
                revoked: token.revoked,
                revoke: SiteURL.tokenRevoke(token.id.lowercased).path
            )
        }
        hasTokens = !tokens.isEmpty
        self.problem = problem
        self.newToken = newToken
        self.newName = newName
    }
}
