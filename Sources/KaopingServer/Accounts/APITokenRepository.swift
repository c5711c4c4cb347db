import Crypto
import Foundation
import PostgresNIO

public struct APIToken: Sendable {
    public let id: UUID
    public let name: String
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

    /// Creates a token and returns it with its id; the token is not kept anywhere.
    public func create(name: String, createdBy: UUID?) async throws -> (id: UUID, token: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token =
            "kp_"
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let id = try await database.query(
            "INSERT INTO api_tokens (name, token_hash, created_by) VALUES (\(name), \(Self.hash(token)), \(createdBy)) RETURNING id"
        ).first!.decode(UUID.self)
        return (id, token)
    }

    public func list() async throws -> [APIToken] {
        try await database.query(
            "SELECT id, name, created_at, last_used_on::text, revoked_at IS NOT NULL FROM api_tokens ORDER BY created_at DESC"
        ).map { row in
            let (id, name, created, used, revoked) = try row.decode((UUID, String, Date, String?, Bool).self)
            return APIToken(id: id, name: name, createdAt: created, lastUsedOn: used, revoked: revoked)
        }
    }

    /// `false` when there is no such live token.
    public func revoke(id: UUID) async throws -> Bool {
        !(try await database.query("UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING 1").isEmpty)
    }

    /// The live token a request presents, noting the day it was used.
    public func verify(_ token: String) async throws -> UUID? {
        guard token.hasPrefix("kp_"), token.count == 46 else { return nil }
        return try await database.query(
            """
            WITH token AS (
              SELECT id FROM api_tokens WHERE token_hash = \(Self.hash(token)) AND revoked_at IS NULL
            ), touched AS (
              UPDATE api_tokens SET last_used_on = (now() AT TIME ZONE 'Asia/Shanghai')::date
              WHERE id IN (SELECT id FROM token) AND last_used_on IS DISTINCT FROM (now() AT TIME ZONE 'Asia/Shanghai')::date
              RETURNING 1
            )
            SELECT id FROM token
            """
        ).first?.decode(UUID.self)
    }

    static func hash(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8))))
    }
}
