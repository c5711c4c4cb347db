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

    init(notice: String? = nil, problems: [String] = []) {
        self.notice = notice
        self.problems = problems
        self.hasProblems = !problems.isEmpty
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
