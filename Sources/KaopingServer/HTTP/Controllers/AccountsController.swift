import Foundation
import Hummingbird

/// Accounts in the admin area: the list, creating one account or a viewer account for every
/// branch secretary at once, disabling and enabling, and resetting a password.
///
/// Every password an administrator hands out is generated, shown once on a printable sheet and
/// must be changed at the first sign-in: an administrator never chooses or learns a password
/// that stays in use.
public struct AccountsController: Sendable {
    let accounts: AccountService
    let users: UserRepository
    let organisation: OrganisationRepository
    let views: Views
    let publicBaseURL: String

    public init(services: KaopingServices, views: Views, publicBaseURL: String) {
        self.accounts = services.accounts
        self.users = services.users
        self.organisation = services.organisation
        self.views = views
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.accounts.route, use: index)
        router.post(SiteURL.accounts.route, use: create)
        router.post(SiteURL.secretaryAccounts.route, use: createSecretaries)
        router.post(SiteURL.accountAction(SiteURL.id, .disable).route, use: disable)
        router.post(SiteURL.accountAction(SiteURL.id, .enable).route, use: enable)
        router.post(SiteURL.accountAction(SiteURL.id, .resetPassword).route, use: resetPassword)
    }

    // MARK: The list

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var notice: String?
        if let name = query["disabled"].map(String.init) {
            notice = context.language.text("accounts_disabled", ["name": name])
            if let stopped = query["tokens"].flatMap({ Int($0) }), stopped > 0 {
                notice! += " " + context.language.text("accounts_disabled_tokens", ["n": stopped])
            }
        }
        if let name = query["enabled"].map(String.init) { notice = context.language.text("accounts_enabled", ["name": name]) }
        return try await page(context: context, notice: notice)
    }

    private func page(
        context: AppRequestContext,
        status: HTTPResponse.Status = .ok,
        notice: String? = nil,
        problem: String? = nil,
        entered: AccountsPage.Entered = .init()
    ) async throws -> Response {
        let model = AccountsPage(
            accounts: try await users.list(),
            signedIn: context.user?.id,
            branches: try await organisation.branches().filter(\.active),
            withoutViewer: try await users.branchesWithoutViewer(),
            language: context.language,
            notice: notice,
            problem: problem,
            entered: entered
        )
        return try views.page("accounts", model, status: status, context: context)
    }

    // MARK: Creating

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let entered = AccountsPage.Entered(
            username: (form["username"] ?? "").trimmingCharacters(in: .whitespaces),
            displayName: (form["displayName"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            role: form["role"] ?? "",
            branch: (form["branch"] ?? "").trimmingCharacters(in: .whitespaces)
        )
        func refuse(_ problem: String) async throws -> Response {
            try await page(context: context, status: .unprocessableContent, problem: problem, entered: entered)
        }
        guard let role = UserRole(rawValue: entered.role) else { return try await refuse(context.language.text("accounts_error_role")) }
        if AccountRules.validateUsername(entered.username) != nil {
            return try await refuse(context.language.text("accounts_error_username"))
        }
        if role == .viewer && entered.branch.isEmpty { return try await refuse(context.language.text("accounts_error_branch_needed")) }
        let created: (user: User, password: String)
        do {
            created = try await accounts.create(
                .init(
                    username: entered.username,
                    displayName: entered.displayName,
                    role: role,
                    branchCode: role == .viewer ? entered.branch : nil
                ),
                mustChangePassword: true,
                actor: context.auditActor,
                logger: context.logger
            )
        } catch AccountError.usernameTaken(let name) {
            return try await refuse(context.language.text("accounts_error_taken", ["name": name]))
        } catch AccountError.unknownBranch(let code) {
            return try await refuse(context.language.text("accounts_error_unknown_branch", ["code": code]))
        }
        let branch = try await branchName(of: created.user)
        return try credentials([Credential(user: created.user, password: created.password, branch: branch)], context: context)
    }

    /// A viewer account for each chosen branch, named after its code, with a one-time password.
    @Sendable func createSecretaries(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        let issued = try await accounts.createSecretaries(
            branchCodes: Set(form.all("branch")),
            displayName: { language.text("accounts_secretary_name", ["branch": $0]) },
            actor: context.auditActor,
            logger: context.logger
        )
        guard !issued.isEmpty else {
            return try await page(context: context, status: .unprocessableContent, problem: context.language.text("accounts_error_no_branches"))
        }
        return try credentials(issued.map { Credential(user: $0.user, password: $0.password, branch: $0.branch) }, context: context)
    }

    // MARK: Changing

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try accountID(context)
        guard id != context.user?.id else {
            return try await page(context: context, status: .conflict, problem: context.language.text("accounts_error_self"))
        }
        let disabled: AccountService.Disabled
        do {
            guard let done = try await accounts.disable(userID: id, actor: context.auditActor, logger: context.logger) else {
                throw AppError.notFound
            }
            disabled = done
        } catch AccountError.lastAdministrator {
            return try await page(context: context, status: .conflict, problem: context.language.text("accounts_error_last_admin"))
        }
        if disabled.stoppedTokens > 0 {
            return .seeOther(.accounts, ["disabled": disabled.user.username, "tokens": String(disabled.stoppedTokens)])
        }
        return .seeOther(.accounts, ["disabled": disabled.user.username])
    }

    @Sendable func enable(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = try await accounts.enable(userID: try accountID(context), actor: context.auditActor, logger: context.logger) else {
            throw AppError.notFound
        }
        return .seeOther(.accounts, ["enabled": user.username])
    }

    /// A new one-time password; the account's sessions end, so whoever held the old one is out.
    @Sendable func resetPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try accountID(context)
        guard id != context.user?.id else {
            return try await page(context: context, status: .conflict, problem: context.language.text("accounts_error_reset_self"))
        }
        guard let (user, password) = try await accounts.resetPassword(userID: id, actor: context.auditActor, logger: context.logger) else {
            throw AppError.notFound
        }
        return try credentials([Credential(user: user, password: password, branch: try await branchName(of: user))], context: context)
    }

    // MARK: Helpers

    private func accountID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound }
        return id
    }

    private func branchName(of user: User) async throws -> String? {
        guard let branchID = user.branchID else { return nil }
        return try await organisation.branchName(id: branchID)
    }

    /// The printable sheet of one-time passwords: shown on this response only, never stored.
    private func credentials(_ issued: [Credential], context: AppRequestContext) throws -> Response {
        let model = CredentialsPage(
            issued: issued,
            signIn: SiteURL.login.absolute(base: publicBaseURL),
            issuedAt: ChinaTime.format(.now),
            language: context.language
        )
        var response = try views.page("account_credentials", model, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// An account with the one-time password just given to it.
struct Credential {
    let user: User
    let password: String
    let branch: String?
}
