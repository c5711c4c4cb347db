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
        router.get(SiteURL.accountAction(SiteURL.id, .disable).route, use: confirmDisable)
        router.post(SiteURL.accountAction(SiteURL.id, .disable).route, use: disable)
        router.post(SiteURL.accountAction(SiteURL.id, .enable).route, use: enable)
        router.get(SiteURL.accountAction(SiteURL.id, .resetPassword).route, use: confirmResetPassword)
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
        let chosen = Set(form.all("branch"))
        guard !chosen.isEmpty else {
            return try await page(context: context, status: .unprocessableContent, problem: language.text("accounts_error_no_branches"))
        }
        let outcome = try await accounts.createSecretaries(
            branchCodes: chosen,
            displayName: { language.text("accounts_secretary_name", ["branch": $0]) },
            actor: context.auditActor,
            logger: context.logger
        )
        // The form sent again (a reload of the printed sheet) finds every branch provided for:
        // said so, not that nothing was ticked.
        let passedOver =
            outcome.alreadyHadAccounts.isEmpty
            ? nil : language.text("accounts_secretaries_already", ["branches": language.quotedList(outcome.alreadyHadAccounts)])
        guard !outcome.created.isEmpty else {
            return try await page(
                context: context,
                status: outcome.alreadyHadAccounts.isEmpty ? .unprocessableContent : .conflict,
                problem: passedOver ?? language.text("accounts_error_no_branches")
            )
        }
        return try credentials(
            outcome.created.map { Credential(user: $0.user, password: $0.password, branch: $0.branch) },
            notice: passedOver,
            context: context
        )
    }

    // MARK: Changing

    /// "Disable this account?": what it does, and the one button. Disabling and resetting a
    /// password are asked first; a bare post is sent here.
    @Sendable func confirmDisable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await confirmation(
            .disable,
            title: "accounts_confirm_disable_title",
            lines: ["accounts_confirm_disable_1", "accounts_confirm_disable_2"],
            button: "accounts_disable",
            refusedForSelf: "accounts_error_self",
            context: context
        )
    }

    @Sendable func confirmResetPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await confirmation(
            .resetPassword,
            title: "accounts_confirm_reset_title",
            lines: ["accounts_confirm_reset_1", "accounts_confirm_reset_2"],
            button: "accounts_reset",
            refusedForSelf: "accounts_error_reset_self",
            context: context
        )
    }

    private func confirmation(
        _ action: SiteURL.AccountAction,
        title: String,
        lines: [String],
        button: String,
        refusedForSelf: String,
        context: AppRequestContext
    ) async throws -> Response {
        let id = try accountID(context)
        guard id != context.user?.id else {
            return try await page(context: context, status: .conflict, problem: context.language.text(refusedForSelf))
        }
        guard let user = try await users.find(id: id) else { throw AppError.notFound }
        let language = context.language
        let page = AccountConfirmPage(
            account: user.displayName.isEmpty ? user.username : "\(user.displayName)（\(user.username)）",
            confirmTitle: language.text(title),
            confirmButton: language.text(button),
            lines: lines.map { language.text($0) },
            action: SiteURL.accountAction(id.lowercased, action).path,
            cancel: SiteURL.accounts.path
        )
        return try views.page("account_confirm", page, context: context)
    }

    /// Whether the post came from the confirmation page.
    private func isConfirmed(_ request: Request, _ context: AppRequestContext) async throws -> Bool {
        var request = request
        return try await request.formData(context: context)["confirmed"] == "yes"
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try accountID(context)
        guard id != context.user?.id else {
            return try await page(context: context, status: .conflict, problem: context.language.text("accounts_error_self"))
        }
        guard try await isConfirmed(request, context) else { return .seeOther(.accountAction(id.lowercased, .disable)) }
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
        guard try await isConfirmed(request, context) else { return .seeOther(.accountAction(id.lowercased, .resetPassword)) }
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
    private func credentials(_ issued: [Credential], notice: String? = nil, context: AppRequestContext) throws -> Response {
        var model = CredentialsPage(
            issued: issued,
            signIn: SiteURL.login.absolute(base: publicBaseURL),
            issuedAt: ChinaTime.format(.now),
            language: context.language
        )
        model.notice = notice
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
