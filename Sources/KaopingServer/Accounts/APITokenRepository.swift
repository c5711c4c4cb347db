// Accounts: who may act and what they did. Users, passwords (bcrypt) and sessions, sign-in
// throttling, API tokens, the audit log, and the services that change them (AccountService,
// TokenService).

import Crypto
import Foundation
import Logging
import PostgresNIO

/// What a token may do. Writing includes reading.
public enum APIScope: String, Sendable, CaseIterable, PostgresCodable {
    /// The rounds, results, integrated sheets and branch records.
    case read
    /// Those, and posting performance results.
    case write
    /// Those, and the members' appraisal results (named members and their categories), which an
    /// integration is given only on purpose: neither of the others reads them.
    case appraisals

    func allows(_ needed: APIScope) -> Bool {
        switch needed {
        case .read: true
        case .write: self == .write
        case .appraisals: self == .appraisals
        }
    }
}

public struct APIToken: Sendable {
    public let id: UUID
    public let name: String
    public let scope: APIScope
    public let createdAt: Date
    public let lastUsedOn: String?
    /// The account that made it; nil for a token made at the command line.
    public let maker: String?
    public let state: State

    public enum State: String, Sendable {
        case live
        case revoked
        /// Its maker is disabled or no longer an administrator: it works again if they are restored.
        case makerWithoutAccess
    }
}

/// API tokens: `kp_` and 43 URL-safe characters (256 random bits); only their hashes are stored.
public struct APITokenRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Creates a token in the caller's transaction and returns it with its id; the token is not
    /// kept anywhere.
    func create(
        name: String,
        scope: APIScope,
        createdBy: UUID?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (id: UUID, token: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token =
            "kp_"
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        var id: UUID?
        for try await row in try await connection.query(
            """
            INSERT INTO api_tokens (name, token_hash, created_by, scope) VALUES (\(name), \(Self.hash(token)), \(createdBy), \(scope))
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { id = row }
        return (id!, token)
    }

    /// A token made by an account works only while that account is an active administrator;
    /// one made at the command line (no maker) by whoever runs the server.
    private static let makerMayAct = "(t.created_by IS NULL OR (u.active AND u.role = 'admin'))"

    public func list() async throws -> [APIToken] {
        try await database.query(
            """
            SELECT t.id, t.name, t.scope, t.created_at, t.last_used_on::text, u.username, t.revoked_at IS NOT NULL, \(unescaped: Self.makerMayAct)
            FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
            ORDER BY t.created_at DESC
            """
        ).map { row in
            let (id, name, scope, created, used, maker, revoked, makerMayAct) = try row.decode(
                (UUID, String, APIScope, Date, String?, String?, Bool, Bool).self
            )
            let state: APIToken.State = revoked ? .revoked : makerMayAct ? .live : .makerWithoutAccess
            return APIToken(id: id, name: name, scope: scope, createdAt: created, lastUsedOn: used, maker: maker, state: state)
        }
    }

    /// How many unrevoked tokens an account made, in the caller's transaction.
    func liveTokens(madeBy userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await value in try await connection.query(
            "SELECT count(*)::int FROM api_tokens WHERE created_by = \(userID) AND revoked_at IS NULL",
            logger: logger
        ).decode(Int.self) { count = value }
        return count
    }

    /// In the caller's transaction; `false` when there is no such live token.
    func revoke(id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        var revoked = false
        for try await _ in try await connection.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING 1",
            logger: logger
        ) { revoked = true }
        return revoked
    }

    /// The live token a request presents and what it may do, noting the day it was used. A
    /// revoked token, or one whose maker is disabled or no longer an administrator, is none.
    public func verify(_ token: String) async throws -> (id: UUID, name: String, scope: APIScope)? {
        guard token.hasPrefix("kp_"), token.count == 46 else { return nil }
        return try await database.query(
            """
            WITH token AS (
              SELECT t.id, t.name, t.scope FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
              WHERE t.token_hash = \(Self.hash(token)) AND t.revoked_at IS NULL AND \(unescaped: Self.makerMayAct)
            ), touched AS (
              UPDATE api_tokens SET last_used_on = (now() AT TIME ZONE 'Asia/Shanghai')::date
              WHERE id IN (SELECT id FROM token) AND last_used_on IS DISTINCT FROM (now() AT TIME ZONE 'Asia/Shanghai')::date
              RETURNING 1
            )
            SELECT id, name, scope FROM token
            """
        ).first?.decode((UUID, String, APIScope).self)
    }

    static func hash(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8))))
    }
}
