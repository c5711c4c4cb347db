import Foundation
import Logging
import PostgresNIO

/// Accounts: creating one (in the admin area or with `kaoping user add`), a viewer account for
/// each branch secretary at once, disabling, enabling and resetting a password. Each change and
/// its audit entry are one transaction; a disabled or reset account's sessions end with it.
public struct AccountService: Sendable {
    let database: Database
    let users: UserRepository
    let organisation: OrganisationRepository
    let sessions: PostgresPersistDriver
    let tokens: APITokenRepository
    let hasher: PasswordHasher

    public init(
        database: Database,
        users: UserRepository,
        organisation: OrganisationRepository,
        sessions: PostgresPersistDriver,
        tokens: APITokenRepository,
        hasher: PasswordHasher
    ) {
        self.database = database
        self.tokens = tokens
        self.users = users
        self.organisation = organisation
        self.sessions = sessions
        self.hasher = hasher
    }

    /// An account to create.
    public struct NewAccount: Sendable {
        public var username: String
        public var displayName: String
        public var role: UserRole
        /// The account's branch: required for a viewer, who sees that branch only.
        public var branchCode: String?

        public init(username: String, displayName: String = "", role: UserRole, branchCode: String? = nil) {
            self.username = username
            self.displayName = displayName
            self.role = role
            self.branchCode = branchCode
        }
    }

    /// Creates an account with `password` (a generated one when `nil`), returning the account
    /// and the password to hand over. `mustChangePassword` makes the person choose their own
    /// at the first sign-in. Refusals are `AccountError`s.
    public func create(
        _ account: NewAccount,
        password given: String? = nil,
        mustChangePassword: Bool,
        actor: AuditActor,
        logger: Logger
    ) async throws -> (user: User, password: String) {
        let password = given ?? AccountRules.generatePassword()
        let hash = try await hasher.hash(password)
        let user = try await database.transaction(logger: logger) { connection in
            let user = try await users.create(
                username: account.username,
                displayName: account.displayName,
                role: account.role,
                branchCode: account.branchCode,
                passwordHash: hash,
                mustChangePassword: mustChangePassword,
                on: connection
            )
            try await AuditLog.record(
                .init(action: "user.created", actor: actor, subject: user.username, details: ["role": account.role.rawValue]),
                on: connection,
                logger: logger
            )
            return user
        }
        return (user, password)
    }

    /// What a bulk creation of secretaries' accounts did.
    public struct SecretaryAccounts: Sendable {
        /// The accounts made, each with its one-time password and its branch's name.
        public let created: [(user: User, password: String, branch: String)]
        /// The chosen branches that were passed over because each has an active viewer account
        /// already (the form sent again, or another administrator was quicker), by code.
        public let alreadyHadAccounts: [String]
    }

    /// A viewer account for each of the given branches that has none yet, named after its code,
    /// each with a generated password to change at the first sign-in; all in one transaction
    /// of a few statements, whatever the number of branches.
    /// `displayName` names an account whose branch has no secretary on record.
    public func createSecretaries(
        branchCodes: Set<String>,
        displayName: @escaping @Sendable (_ branchName: String) -> String,
        actor: AuditActor,
        logger: Logger
    ) async throws -> SecretaryAccounts {
        let summaries = try await organisation.branches().filter { $0.active && branchCodes.contains($0.code) }
        let without = Set(try await users.branchesWithoutViewer().map(\.code))
        let branches = summaries.filter { without.contains($0.code) }
        let hadAccounts = summaries.filter { !without.contains($0.code) }.map(\.code)
        guard !branches.isEmpty else { return SecretaryAccounts(created: [], alreadyHadAccounts: hadAccounts) }
        // Hashing is the slow part (bcrypt): the passwords are hashed side by side on the
        // thread pool, before the transaction, so no connection waits for them.
        let passwords = branches.map { _ in AccountRules.generatePassword() }
        let hasher = self.hasher
        let hashes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, password) in passwords.enumerated() { group.addTask { (index, try await hasher.hash(password)) } }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        let drafts = branches.enumerated().map { index, branch in
            UserRepository.ViewerDraft(
                branchCode: branch.code,
                displayName: branch.secretary.flatMap { $0.isEmpty ? nil : $0 } ?? displayName(branch.name),
                passwordHash: hashes[index]!
            )
        }
        let users = self.users
        let created = try await database.transaction(logger: logger) { connection in
            let created = try await users.createViewers(drafts, on: connection)
            let entries = created.map { user, code in
                AuditEntry(action: "user.created", actor: actor, subject: user.username, details: ["role": UserRole.viewer.rawValue, "branch": code])
            }
            try await AuditLog.record(entries, on: connection, logger: logger)
            return created
        }
        let made = Set(created.map(\.branchCode))
        let byCode = Dictionary(uniqueKeysWithValues: branches.enumerated().map { ($1.code, (password: passwords[$0], name: $1.name)) })
        return SecretaryAccounts(
            created: created.map { user, code in (user, byCode[code]!.password, byCode[code]!.name) },
            // A branch that got its account from someone else meanwhile.
            alreadyHadAccounts: hadAccounts + branches.map(\.code).filter { !made.contains($0) }
        )
    }

    /// Disables an account and ends its sessions; `nil` when there is no such account. The
    /// last active administrator stays (`AccountError.lastAdministrator`).
    /// A person's own new password (it no longer needs changing): their other sessions end,
    /// the one they changed it in stays (`sessionKey`), and the audit log notes where from.
    public func changeOwnPassword(
        _ user: User,
        to password: String,
        keepingSession sessionKey: String?,
        address: String?,
        logger: Logger
    ) async throws {
        let hash = try await hasher.hash(password)
        try await database.transaction(logger: logger) { connection in
            try await users.updatePasswordHash(userID: user.id, passwordHash: hash, on: connection, logger: logger)
            try await sessions.removeAll(userID: user.id, except: sessionKey, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "password.changed", actor: .account(user), subject: user.username, address: address),
                on: connection,
                logger: logger
            )
        }
    }

    /// An account disabled, and how many of the API tokens it made stopped with it.
    public struct Disabled: Sendable {
        public let user: User
        public let stoppedTokens: Int
    }

    /// Signs the account out everywhere; the API tokens it made stop working with it (they work
    /// only while their maker is an active administrator), which its audit entry counts.
    public func disable(userID: UUID, actor: AuditActor, logger: Logger) async throws -> Disabled? {
        let disabled = try await database.transaction(logger: logger) { connection -> Disabled? in
            guard let user = try await users.setActive(userID: userID, active: false, on: connection) else { return nil }
            let stopped = try await tokens.liveTokens(madeBy: userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "user.disabled", actor: actor, subject: user.username, details: ["tokens_stopped": String(stopped)]),
                on: connection,
                logger: logger
            )
            return Disabled(user: user, stoppedTokens: stopped)
        }
        if let disabled { try await sessions.removeAll(userID: disabled.user.id, except: nil) }
        return disabled
    }

    public func enable(userID: UUID, actor: AuditActor, logger: Logger) async throws -> User? {
        try await change(userID: userID, action: "user.enabled", actor: actor, logger: logger, endsSessions: false) { connection in
            try await users.setActive(userID: userID, active: true, on: connection)
        }
    }

    /// A new generated password to change at the next sign-in; the account's sessions end, so
    /// whoever held the old one is out.
    public func resetPassword(userID: UUID, actor: AuditActor, logger: Logger) async throws -> (user: User, password: String)? {
        let password = AccountRules.generatePassword()
        let hash = try await hasher.hash(password)
        let user = try await change(userID: userID, action: "user.password_reset", actor: actor, logger: logger) { connection in
            try await users.resetPassword(userID: userID, passwordHash: hash, on: connection)
        }
        return user.map { ($0, password) }
    }

    private func change(
        userID: UUID,
        action: String,
        actor: AuditActor,
        logger: Logger,
        endsSessions: Bool = true,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> User?
    ) async throws -> User? {
        let user = try await database.transaction(logger: logger) { connection -> User? in
            guard let user = try await body(connection) else { return nil }
            try await AuditLog.record(.init(action: action, actor: actor, subject: user.username), on: connection, logger: logger)
            return user
        }
        if let user, endsSessions { try await sessions.removeAll(userID: user.id, except: nil) }
        return user
    }
}
