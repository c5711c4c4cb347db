// Pages: one model per page (`<Feature>+Model.swift`), made from domain values and the
// language; a template names only what its model holds.

import Foundation

/// The sign-in page, empty or with why the last try was refused and what was typed.
struct LoginPage: PageModel {
    let action = SiteURL.login.path
    let next: String
    var username = ""
    var notice: String?
    var error: String?
}

/// The page for changing one's password: the form, what was wrong, or that it was done.
struct PasswordPage: PageModel {
    let action = SiteURL.password.path
    let notice: String?
    let problems: [String]
    let hasProblems: Bool
    /// After a first-time change, the way on to the person's home page.
    let home: String?

    init(notice: String? = nil, problems: [String] = [], home: String? = nil) {
        self.notice = notice
        self.problems = problems
        self.hasProblems = !problems.isEmpty
        self.home = home
    }
}

/// Something went wrong: the status, what it means in the person's language, the request's
/// reference for the log, and the way back.
struct ErrorPage: PageModel {
    let status: Int
    let message: String
    let requestId: String
    let home: String
}

/// The accounts page: every account with what can be done to it, the form for a new one, and
/// the form that gives each branch secretary a viewer account.
struct AccountsPage: PageModel {
    /// What was typed into the form for a new account, to show again after a refusal.
    struct Entered {
        var username = ""
        var displayName = ""
        var role = ""
        var branch = ""
    }

    struct Row {
        let username: String
        let displayName: String
        let role: String
        let branch: String
        let active: Bool
        let mustChangePassword: Bool
        let lastSignIn: String
        /// Not for the signed-in account itself: nobody disables or resets themselves here.
        let actions: Bool
        let disable: String
        let enable: String
        let reset: String
    }

    struct RoleOption {
        let value: String
        let label: String
        let selected: Bool
    }

    struct BranchOption {
        let code: String
        let name: String
        let selected: Bool
    }

    let accounts: [Row]
    let activeCount: Int
    let roles: [RoleOption]
    let branches: [BranchOption]
    let withoutViewer: [BranchOption]
    let hasWithoutViewer: Bool
    let entered: Entered
    let notice: String?
    let problem: String?
    let create = SiteURL.accounts.path
    let createSecretaries = SiteURL.secretaryAccounts.path

    init(
        accounts: [AccountListing],
        signedIn: UUID?,
        branches: [BranchSummary],
        withoutViewer: [(code: String, name: String)],
        language: Language,
        notice: String?,
        problem: String?,
        entered: Entered
    ) {
        self.accounts = accounts.map { account in
            let id = account.user.id.lowercased
            return Row(
                username: account.user.username,
                displayName: account.user.displayName,
                role: language.text("role_\(account.user.role.rawValue)"),
                branch: account.branchCode.map { code in "\(code) \(account.branchName ?? "")" } ?? "",
                active: account.user.active,
                mustChangePassword: account.user.mustChangePassword,
                lastSignIn: account.lastSignIn.map(ChinaTime.format) ?? language.text("accounts_never"),
                actions: account.user.id != signedIn,
                disable: SiteURL.accountAction(id, .disable).path,
                enable: SiteURL.accountAction(id, .enable).path,
                reset: SiteURL.accountAction(id, .resetPassword).path
            )
        }
        activeCount = accounts.filter(\.user.active).count
        roles = UserRole.allCases.map { role in
            RoleOption(value: role.rawValue, label: language.text("role_\(role.rawValue)"), selected: role.rawValue == entered.role)
        }
        self.branches = branches.map { BranchOption(code: $0.code, name: $0.name, selected: $0.code == entered.branch) }
        self.withoutViewer = withoutViewer.map { BranchOption(code: $0.code, name: $0.name, selected: true) }
        hasWithoutViewer = !withoutViewer.isEmpty
        self.entered = entered
        self.notice = notice
        self.problem = problem
    }
}

/// "Disable this account?" and "Reset this password?": what will happen, and the one button.
struct AccountConfirmPage: PageModel {
    /// The account's name and user name.
    let account: String
    let confirmTitle: String
    let confirmButton: String
    let lines: [String]
    let action: String
    let cancel: String
}

/// One-time passwords just issued, one slip per account, to print and hand over.
struct CredentialsPage: PageModel {
    struct Slip {
        let displayName: String
        let username: String
        let password: String
        let role: String
        let branch: String
    }

    let slips: [Slip]
    let count: Int
    let signIn: String
    let issuedAt: String
    let back = SiteURL.accounts.path
    let script = "print.js"
    /// Chosen branches that were passed over, having accounts already.
    var notice: String?

    init(issued: [Credential], signIn: String, issuedAt: String, language: Language) {
        slips = issued.map { credential in
            Slip(
                displayName: credential.user.displayName.isEmpty ? credential.user.username : credential.user.displayName,
                username: credential.user.username,
                password: credential.password,
                role: language.text("role_\(credential.user.role.rawValue)"),
                branch: credential.branch ?? ""
            )
        }
        count = issued.count
        self.signIn = signIn
        self.issuedAt = issuedAt
    }
}
