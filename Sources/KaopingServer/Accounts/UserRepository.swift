import Foundation
import Logging
import PostgresNIO

/// Where accounts live.
public struct UserRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    private static let columns = "id, username, display_name, role, branch_id, password_hash, active, must_change_password"

    public func find(id: UUID) async throws -> User? {
        try await database.query("SELECT \(unescaped: Self.columns) FROM users WHERE id = \(id)").first.map(Self.user)
    }

    public func find(username: String) async throws -> User? {
        try await database.query("SELECT \(unescaped: Self.columns) FROM users WHERE lower(username) = lower(\(username))")
            .first.map(Self.user)
    }

    public func create(
        username: String,
        displayName: String,
        role: UserRole,
        branchCode: String?,
        passwordHash: String,
        mustChangePassword: Bool = false
    ) async throws -> User {
        try await database.transaction(logger: Database.quietLogger) { connection in
            try await create(
                username: username,
                displayName: displayName,
                role: role,
                branchCode: branchCode,
                passwordHash: passwordHash,
                mustChangePassword: mustChangePassword,
                on: connection
            )
        }
    }

    /// The same, in the caller's transaction.
    func create(
        username: String,
        displayName: String,
        role: UserRole,
        branchCode: String?,
        passwordHash: String,
        mustChangePassword: Bool,
        on connection: PostgresConnection
    ) async throws -> User {
        if let problem = AccountRules.validateUsername(username) { throw problem }
        if role == .viewer && branchCode == nil { throw AccountError.viewerNeedsBranch }
        let logger = Database.quietLogger
        var branchID: UUID?
        if let branchCode {
            for try await id in try await connection.query("SELECT id FROM branches WHERE code = \(branchCode)", logger: logger).decode(UUID.self) {
                branchID = id
            }
            guard branchID != nil else { throw AccountError.unknownBranch(branchCode) }
        }
        var created: User?
        for try await row in try await connection.query(
            """
            INSERT INTO users (username, display_name, role, branch_id, password_hash, must_change_password)
            VALUES (\(username), \(displayName), \(role.rawValue), \(branchID), \(passwordHash), \(mustChangePassword))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Self.columns)
            """,
            logger: logger
        ) { created = try Self.user(row) }
        guard let created else { throw AccountError.usernameTaken(username) }
        return created
    }

    /// The person's own new password: it no longer needs changing.
    func updatePasswordHash(userID: UUID, passwordHash: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            UPDATE users SET password_hash = \(passwordHash), password_changed_at = now(), must_change_password = false
            WHERE id = \(userID)
            """,
            logger: logger
        )
    }

    /// A password an administrator chose (a reset): to be changed at the next sign-in.
    /// Returns the account, or nil if there is none with that id.
    func resetPassword(userID: UUID, passwordHash: String, on connection: PostgresConnection) async throws -> User? {
        var updated: User?
        for try await row in try await connection.query(
            """
            UPDATE users SET password_hash = \(passwordHash), password_changed_at = now(), must_change_password = true
            WHERE id = \(userID)
            RETURNING \(unescaped: Self.columns)
            """,
            logger: Database.quietLogger
        ) { updated = try Self.user(row) }
        return updated
    }

    /// Disables or enables an account. A disabled account is signed out at its next request
    /// (`AuthenticationMiddleware` reads it each time). The last active administrator stays:
    /// the check and the change are one statement, so two administrators disabling each other
    /// at once cannot both succeed.
    func setActive(userID: UUID, active: Bool, on connection: PostgresConnection) async throws -> User? {
        let logger = Database.quietLogger
        var updated: User?
        if active {
            for try await row in try await connection.query(
                "UPDATE users SET active = true WHERE id = \(userID) RETURNING \(unescaped: Self.columns)",
                logger: logger
            ) { updated = try Self.user(row) }
            return updated
        }
        // Serialise changes to administrators' state, so that the count below is current.
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('users:active-admins', 0))", logger: logger)
        for try await row in try await connection.query(
            """
            UPDATE users SET active = false
            WHERE id = \(userID)
              AND (role <> 'admin' OR (SELECT count(*) FROM users WHERE role = 'admin' AND active AND id <> \(userID)) > 0)
            RETURNING \(unescaped: Self.columns)
            """,
            logger: logger
        ) { updated = try Self.user(row) }
        if updated == nil {
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM users WHERE id = \(userID)", logger: logger) { exists = true }
            if exists { throw AccountError.lastAdministrator }
        }
        return updated
    }

    /// Every account, administrators first, with its branch and when it last signed in.
    public func list() async throws -> [AccountListing] {
        try await database.query(
            """
            SELECT u.id, u.username, u.display_name, u.role, u.branch_id, u.password_hash, u.active, u.must_change_password,
                   b.code, b.name,
                   (SELECT max(a.at) FROM audit_log a WHERE a.actor_user_id = u.id AND a.action = 'login')
            FROM users u LEFT JOIN branches b ON b.id = u.branch_id
            ORDER BY u.active DESC, CASE u.role WHEN 'admin' THEN 0 WHEN 'evaluator' THEN 1 ELSE 2 END, b.code NULLS FIRST, lower(u.username)
            """
        ).map { row in
            let user = try Self.user(row)
            let (_, _, _, _, _, _, _, _, code, name, last) =
                try row.decode((UUID, String, String, String, UUID?, String, Bool, Bool, String?, String?, Date?).self)
            return AccountListing(user: user, branchCode: code, branchName: name, lastSignIn: last)
        }
    }

    /// Active branches that have no active viewer account yet, in code order: the ones a bulk
    /// creation of secretaries' accounts offers.
    public func branchesWithoutViewer() async throws -> [(code: String, name: String)] {
        try await database.query(
            """
            SELECT b.code, b.name FROM branches b
            WHERE b.active AND NOT EXISTS (SELECT 1 FROM users u WHERE u.branch_id = b.id AND u.role = 'viewer' AND u.active)
            ORDER BY b.code
            """
        ).map { try $0.decode((String, String).self) }
    }

    /// A viewer account to make for a branch secretary: its branch, name and password hash.
    struct ViewerDraft {
        let branchCode: String
        let displayName: String
        let passwordHash: String
    }

    /// Viewer accounts, each to change its password at the first sign-in, for those of the
    /// drafts' branches that are active and still have no active viewer account, in the
    /// caller's transaction: three statements however many there are. The branches are locked
    /// first, so two administrators creating accounts at once give each branch one. Each is
    /// named after its branch's code, `secretary-b01`, or the next free `secretary-b01-2`.
    /// Returns the accounts made with their branch codes, in the drafts' order.
    func createViewers(_ drafts: [ViewerDraft], on connection: PostgresConnection) async throws -> [(user: User, branchCode: String)] {
        guard !drafts.isEmpty else { return [] }
        let logger = Database.quietLogger
        let codes = drafts.map(\.branchCode)
        // In one order, so that two creations at once wait for each other instead of deadlocking.
        _ = try await connection.query("SELECT id FROM branches WHERE code = ANY(\(codes)::text[]) ORDER BY code FOR UPDATE", logger: logger)
            .collect()
        var taken = Set<String>()
        for try await name in try await connection.query(
            "SELECT lower(username) FROM users WHERE lower(username) LIKE 'secretary-%'",
            logger: logger
        ).decode(String.self) { taken.insert(name) }
        let usernames = drafts.map { draft in
            let base = AccountRules.viewerUsername(branchCode: draft.branchCode)
            var name = base
            var suffix = 2
            while taken.contains(name.lowercased()) {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            taken.insert(name.lowercased())
            return name
        }
        var created: [String: User] = [:]
        for try await row in try await connection.query(
            """
            INSERT INTO users (username, display_name, role, branch_id, password_hash, must_change_password)
            SELECT d.username, d.display_name, 'viewer', b.id, d.password_hash, true
            FROM unnest(\(codes)::text[], \(usernames)::text[], \(drafts.map(\.displayName))::text[], \(drafts.map(\.passwordHash))::text[])
                 WITH ORDINALITY AS d(code, username, display_name, password_hash, position)
            JOIN branches b ON b.code = d.code AND b.active
            WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.branch_id = b.id AND u.role = 'viewer' AND u.active)
            ORDER BY d.position
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Self.columns)
            """,
            logger: logger
        ) {
            let user = try Self.user(row)
            created[user.username] = user
        }
        return zip(usernames, codes).compactMap { username, code in created[username].map { ($0, code) } }
    }

    public func count() async throws -> Int {
        try await database.query("SELECT count(*)::int FROM users").first!.decode(Int.self)
    }

    private static func user(_ row: PostgresRow) throws -> User {
        let (id, username, displayName, role, branchID, hash, active, mustChange) =
            try row.decode((UUID, String, String, String, UUID?, String, Bool, Bool).self)
        return User(
            id: id,
            username: username,
            displayName: displayName,
            role: UserRole(rawValue: role) ?? .viewer,
            branchID: branchID,
            passwordHash: hash,
            active: active,
            mustChangePassword: mustChange
        )
    }
}
