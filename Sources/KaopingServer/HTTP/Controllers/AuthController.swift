import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// Sign-in, sign-out and password changes for administrators, evaluators and branch viewers.
public struct AuthController: Sendable {
    let users: UserRepository
    let audit: AuditLog
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    let sessions: PostgresPersistDriver
    let views: Views
    let trustForwardedFor: Bool
    let sessionLifetime: Duration

    /// The session cookie's name, to keep this session when a password change ends the others.
    let sessionCookie: String
    let accounts: AccountService

    public init(
        users: UserRepository,
        audit: AuditLog,
        throttle: LoginThrottle,
        hasher: PasswordHasher,
        sessions: PostgresPersistDriver,
        views: Views,
        trustForwardedFor: Bool,
        sessionLifetime: Duration,
        sessionCookie: String,
        accounts: AccountService
    ) {
        self.sessionCookie = sessionCookie
        self.accounts = accounts
        self.users = users
        self.audit = audit
        self.throttle = throttle
        self.hasher = hasher
        self.sessions = sessions
        self.views = views
        self.trustForwardedFor = trustForwardedFor
        self.sessionLifetime = sessionLifetime
    }

    /// Routes reachable without signing in.
    public func addPublicRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.login.route, use: showLogin)
        router.post(SiteURL.login.route, use: login)
    }

    /// Routes for signed-in users.
    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.logout.route, use: logout)
        router.get(SiteURL.password.route, use: showPasswordForm)
        router.post(SiteURL.password.route, use: changePassword)
    }

    // MARK: Sign in

    @Sendable func showLogin(_ request: Request, context: AppRequestContext) async throws -> Response {
        if context.sessions.session != nil {
            return .seeOther(Self.safeNext(request.uri.queryParameters["next"].map(String.init)))
        }
        var page = LoginPage(next: request.uri.queryParameters["next"].map(String.init) ?? "")
        if request.uri.queryParameters["bye"] != nil { page.notice = context.language.text("logged_out") }
        return try views.page("login", page, context: context)
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        let next = form["next"] ?? ""
        let address = context.clientAddress(request, trustForwardedFor: trustForwardedFor)

        func refuse(_ key: String, status: HTTPResponse.Status) throws -> Response {
            try views.page(
                "login",
                LoginPage(next: next, username: username, error: context.language.text(key)),
                status: status,
                context: context
            )
        }
        guard !username.isEmpty, !password.isEmpty else { return try refuse("login_missing", status: .unprocessableContent) }

        let attempt: Int64
        switch try await throttle.reserve(username: username, address: address) {
        case .allowed(let reserved): attempt = reserved
        case .accountLocked:
            try await audit.record(.init(action: "login.throttled", actorName: username, subject: "account", address: address))
            return try refuse("login_throttled_account", status: .tooManyRequests)
        case .addressLocked:
            try await audit.record(.init(action: "login.throttled", actorName: username, subject: "address", address: address))
            return try refuse("login_throttled_address", status: .tooManyRequests)
        }

        let user = try await users.find(username: username)
        // A password is checked even for an unknown name, so that timing does not reveal which exist.
        let verified = try await hasher.verify(password, against: user?.passwordHash)
        guard let user, user.active, verified else {
            // The attempt was counted as a failure when it was reserved.
            try await audit.record(.init(action: "login.failed", actorUserID: user?.id, actorName: username, subject: username, address: address))
            return try refuse("login_failed", status: .unprocessableContent)
        }
        try await throttle.succeeded(attempt)
        try await audit.record(.init(action: "login", actorUserID: user.id, actorName: user.username, subject: user.username, address: address))
        context.sessions.createSession(AdminSession(userID: user.id), expiresIn: sessionLifetime)
        context.logger.info("signed in", metadata: ["user": "\(user.username)"])
        return .seeOther(Self.safeNext(next))
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let user = context.user {
            try await audit.record(
                .init(
                    action: "logout",
                    actorUserID: user.id,
                    actorName: user.username,
                    subject: user.username,
                    address: context.clientAddress(request, trustForwardedFor: trustForwardedFor)
                )
            )
        }
        context.sessions.clearSession()
        return .seeOther(.login, ["bye": "1"])
    }

    // MARK: Password

    @Sendable func showPasswordForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let firstTime = context.user?.mustChangePassword == true
        return try views.page("password", PasswordPage(notice: firstTime ? context.language.text("password_first_time") : nil), context: context)
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.user else { throw AppError.forbidden }
        var request = request
        let form = try await request.formData(context: context)
        let current = form["current"] ?? ""
        let new = form["new"] ?? ""
        let confirm = form["confirm"] ?? ""

        var problems: [String] = []
        if !(try await hasher.verify(current, against: user.passwordHash)) { problems.append("password_wrong_current") }
        if AccountRules.validatePassword(new) != nil { problems.append("password_too_short") }
        if new != confirm { problems.append("password_mismatch") }
        if problems.isEmpty && new == current { problems.append("password_same") }
        guard problems.isEmpty else {
            return try views.page(
                "password",
                PasswordPage(
                    notice: user.mustChangePassword ? context.language.text("password_first_time") : nil,
                    problems: problems.map { context.language.text($0) }
                ),
                status: .unprocessableContent,
                context: context
            )
        }
        try await accounts.changeOwnPassword(
            user,
            to: new,
            keepingSession: request.cookies[sessionCookie].map { "\(SessionCookie.keyPrefix)\($0.value)" },
            address: context.clientAddress(request, trustForwardedFor: trustForwardedFor),
            logger: context.logger
        )
        return try views.page(
            "password",
            PasswordPage(notice: context.language.text("password_changed"), home: user.mustChangePassword ? SiteURL.admin.path : nil),
            context: context
        )
    }

    /// Only paths inside the admin area: never an open redirect to another site.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix(SiteURL.adminPrefix), !next.hasPrefix("//"), !next.contains("\\"),
            !next.hasPrefix(SiteURL.login.path)
        else {
            return SiteURL.admin.path
        }
        return next
    }
}

extension AppRequestContext {
    /// The client's address: the TCP peer, or behind a trusted proxy the last address it added.
    func clientAddress(_ request: Request, trustForwardedFor: Bool) -> String {
        if trustForwardedFor, let forwarded = request.headers[.xForwardedFor], let last = forwarded.split(separator: ",").last {
            return last.trimmingCharacters(in: .whitespaces)
        }
        return remoteAddress?.ipAddress ?? "unknown"
    }
}
