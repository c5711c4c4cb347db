import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// What an administrator's session remembers between requests.
public struct AdminSession: Codable, Sendable, Equatable {
    public var userID: UUID
    public var createdAt: Date

    public init(userID: UUID, createdAt: Date = .now) {
        self.userID = userID
        self.createdAt = createdAt
    }
}

/// Hummingbird's key-value persistence, kept in the `sessions` table so that every instance
/// of the server sees every session.
///
/// Keys arrive as `prefix + session id`; only their SHA-256 is stored, so a leaked copy of the
/// table cannot be turned back into cookies.
public struct PostgresPersistDriver: PersistDriver {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let (json, userID) = try Self.encode(value)
        let rows = try await database.query(
            """
            INSERT INTO sessions (key_hash, user_id, data, expires_at)
            VALUES (sha256(convert_to(\(key), 'UTF8')), \(userID), \(json)::jsonb, \(Self.expiry(expires)))
            ON CONFLICT (key_hash) DO NOTHING
            RETURNING 1
            """
        )
        if rows.isEmpty { throw PersistError.duplicate }
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let (json, userID) = try Self.encode(value)
        // Without a new expiry the row keeps the one it has.
        try await database.query(
            """
            INSERT INTO sessions (key_hash, user_id, data, expires_at)
            VALUES (sha256(convert_to(\(key), 'UTF8')), \(userID), \(json)::jsonb, \(Self.expiry(expires)))
            ON CONFLICT (key_hash) DO UPDATE SET
              data = EXCLUDED.data,
              user_id = EXCLUDED.user_id,
              expires_at = CASE WHEN \(expires == nil) THEN sessions.expires_at ELSE EXCLUDED.expires_at END
            """
        )
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let rows = try await database.query(
            """
            SELECT data::text, extract(epoch FROM expires_at - now())::float8 FROM sessions
            WHERE key_hash = sha256(convert_to(\(key), 'UTF8')) AND (expires_at IS NULL OR expires_at > now())
            """
        )
        guard let row = rows.first else { return nil }
        let (json, seconds) = try row.decode((String, Double?).self)
        do {
            let object = try JSONDecoder().decode(Object.self, from: Data(json.utf8))
            return (object, seconds.map { .milliseconds(Int64($0 * 1000)) })
        } catch {
            throw PersistError.invalidConversion
        }
    }

    public func remove(key: String) async throws {
        try await database.query("DELETE FROM sessions WHERE key_hash = sha256(convert_to(\(key), 'UTF8'))")
    }

    /// Ends every session of a user except, optionally, the one making the request.
    public func removeAll(userID: UUID, except key: String?) async throws {
        try await database.query(
            """
            DELETE FROM sessions WHERE user_id = \(userID)
              AND (\(key)::text IS NULL OR key_hash <> sha256(convert_to(\(key), 'UTF8')))
            """
        )
    }

    /// The same, in the caller's transaction.
    func removeAll(userID: UUID, except key: String?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            DELETE FROM sessions WHERE user_id = \(userID)
              AND (\(key)::text IS NULL OR key_hash <> sha256(convert_to(\(key), 'UTF8')))
            """,
            logger: logger
        )
    }

    public func removeExpired() async throws -> Int {
        let rows = try await database.query("DELETE FROM sessions WHERE expires_at <= now() RETURNING 1")
        return rows.count
    }

    private static func expiry(_ duration: Duration?) -> Date? {
        duration.map { Date.now.addingTimeInterval(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
    }

    private static func encode<Object: Encodable>(_ value: Object) throws -> (String, UUID?) {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        return (json, (value as? AdminSession)?.userID)
    }
}
