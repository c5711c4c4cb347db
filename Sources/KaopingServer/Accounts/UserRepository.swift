import Foundation
import Logging
import PostgresNIO

/// Where accounts live.
public struct UserRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    private static let columns = "id, username, display_name, role, branch_id, password_hash, active"

    public func find(id: UUID) async throws -> User? {
        try await database.query("SELECT \(unescaped: Self.columns) FROM users WHERE id = \(id)").first.map(Self.user)
    }

    public func find(username: String) async throws -> User? {
        try await database.query("SELECT \(unescaped: Self.columns) FROM users WHERE lower(username) = lower(\(username))")
            .first.map(Self.user)
    }

    public func create(username: String, displayName: String, role: UserRole, branchCode: String?, passwordHash: String) async throws -> User {
        if let problem = AccountRules.validateUsername(username) { throw problem }
        if role == .viewer && branchCode == nil { throw AccountError.viewerNeedsBranch }
        var branchID: UUID?
        if let branchCode {
            guard let row = try await database.query("SELECT id FROM branches WHERE code = \(branchCode)").first else {
                throw AccountError.unknownBranch(branchCode)
            }
            branchID = try row.decode(UUID.self)
        }
        let rows = try await database.query(
            """
            INSERT INTO users (username, display_name, role, branch_id, password_hash)
            VALUES (\(username), \(displayName), \(role.rawValue), \(branchID), \(passwordHash))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Self.columns)
            """
        )
        guard let row = rows.first else { throw AccountError.usernameTaken(username) }
        return try Self.user(row)
    }

    public func updatePasswordHash(userID: UUID, passwordHash: String) async throws {
        try await database.query(
            "UPDATE users SET password_hash = \(passwordHash), password_changed_at = now() WHERE id = \(userID)"
        )
    }

    public func count() async throws -> Int {
        try await database.query("SELECT count(*)::int FROM users").first!.decode(Int.self)
    }

    private static func user(_ row: PostgresRow) throws -> User {
        let (id, username, displayName, role, branchID, hash, active) =
            try row.decode((UUID, String, String, String, UUID?, String, Bool).self)
        return User(
            id: id,
            username: username,
            displayName: displayName,
            role: UserRole(rawValue: role) ?? .viewer,
            branchID: branchID,
            passwordHash: hash,
            active: active
        )
    }
}
