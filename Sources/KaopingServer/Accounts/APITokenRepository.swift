// Accounts: who may act and what they did. Users, passwords (bcrypt) and sessions, sign-in
// throttling, API tokens, the audit log, and the services that change them (AccountService,
// TokenService).

import Crypto
import Foundation
import Logging
import PostgresNIO

/// What a token may do. Writing includes reading.
public enum APIScope: String, Sendable, CaseIterable, PostgresCodable {
    case read, write

    func allows(_ needed: APIScope) -> Bool { self == .write || needed == .read }
}

public struct APIToken: Sendable {
    public let id: UUID
    public let name: String
    public let scope: APIScope
    public let createdAt: Date
    public let lastUsedOn: String?
    public let revoked: Bool
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

    public func list() async throws -> [APIToken] {
        try await database.query(
            "SELECT id, name, scope, created_at, last_used_on::text, revoked_at IS NOT NULL FROM api_tokens ORDER BY created_at DESC"
        ).map { row in
            let (id, name, scope, created, used, revoked) = try row.decode((UUID, String, APIScope, Date, String?, Bool).self)
            return APIToken(id: id, name: name, scope: scope, createdAt: created, lastUsedOn: used, revoked: revoked)
        }
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

    /// The live token a request presents and what it may do, noting the day it was used.
    public func verify(_ token: String) async throws -> (id: UUID, name: String, scope: APIScope)? {
        guard token.hasPrefix("kp_"), token.count == 46 else { return nil }
        return try await database.query(
            """
            WITH token AS (
              SELECT id, name, scope FROM api_tokens WHERE token_hash = \(Self.hash(token)) AND revoked_at IS NULL
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
