import Foundation
import Logging
import PostgresNIO

/// Who did something, as the audit log names them: a signed-in account, an API token, the
/// command line or the scheduler. Every service function takes one.
///
/// Not called `Actor`, which would hide Swift's own `Actor` protocol in this module.
public struct AuditActor: Sendable, Equatable {
    public let userID: UUID?
    public let name: String

    public init(userID: UUID?, name: String) {
        self.userID = userID
        self.name = name
    }

    /// A person signed in to the admin area.
    public static func account(_ user: User) -> AuditActor { AuditActor(userID: user.id, name: user.username) }
    /// An integration calling the API with a token.
    public static func apiToken(name: String) -> AuditActor { AuditActor(userID: nil, name: "api: \(name)") }
    /// An operator at the server's command line.
    public static let commandLine = AuditActor(userID: nil, name: "cli")
    /// The server itself, opening and closing rounds on time.
    public static let scheduler = AuditActor(userID: nil, name: "scheduler")
}

public struct AuditEntry: Sendable {
    public var action: String
    public var actorUserID: UUID?
    public var actorName: String
    public var subject: String
    public var address: String?
    public var details: [String: String]

    public init(
        action: String,
        actorUserID: UUID? = nil,
        actorName: String = "",
        subject: String = "",
        address: String? = nil,
        details: [String: String] = [:]
    ) {
        self.action = action
        self.actorUserID = actorUserID
        self.actorName = actorName
        self.subject = subject
        self.address = address
        self.details = details
    }

    public init(action: String, actor: AuditActor, subject: String = "", address: String? = nil, details: [String: String] = [:]) {
        self.init(action: action, actorUserID: actor.userID, actorName: actor.name, subject: subject, address: address, details: details)
    }
}

/// Who did what: logins, logouts, failed logins, and every administrative change.
///
/// A change and its entry belong together: services write the entry with
/// `record(_:on:logger:)` inside the change's own transaction, so a change that rolls back
/// leaves no entry and an entry never names a change that did not happen. `record(_:)` on its
/// own connection is for events that change nothing else (a sign-in, a refused attempt).
public struct AuditLog: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AuditEntry) async throws {
        try await database.withConnection { connection in
            try await Self.record(entry, on: connection, logger: Database.quietLogger)
        }
    }

    /// Writes the entries in the caller's transaction, in one statement and in their order.
    public static func record(_ entries: [AuditEntry], on connection: PostgresConnection, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        let details = try entries.map { String(decoding: try encoder.encode($0.details), as: UTF8.self) }
        // Arrays carry no NULLs here: an absent actor or address travels as "".
        let actors = entries.map { $0.actorUserID?.uuidString ?? "" }
        let addresses = entries.map { $0.address ?? "" }
        try await connection.execute(
            """
            INSERT INTO audit_log (actor_user_id, actor_name, action, subject, address, details)
            SELECT NULLIF(e.actor_user_id, '')::uuid, e.actor_name, e.action, e.subject, NULLIF(e.address, ''), e.details::jsonb
            FROM unnest(\(actors)::text[], \(entries.map(\.actorName))::text[], \(entries.map(\.action))::text[],
                        \(entries.map(\.subject))::text[], \(addresses)::text[], \(details)::text[])
                 WITH ORDINALITY AS e(actor_user_id, actor_name, action, subject, address, details, position)
            ORDER BY e.position
            """,
            logger: logger
        )
    }

    /// Writes the entry in the caller's transaction.
    public static func record(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await connection.execute(
            """
            INSERT INTO audit_log (actor_user_id, actor_name, action, subject, address, details)
            VALUES (\(entry.actorUserID), \(entry.actorName), \(entry.action), \(entry.subject), \(entry.address), \(details)::jsonb)
            """,
            logger: logger
        )
    }
}
