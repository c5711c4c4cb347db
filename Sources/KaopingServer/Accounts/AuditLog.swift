import Foundation
import Logging
import PostgresNIO

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
}

/// Who did what: logins, logouts, failed logins, and later every administrative change.
public struct AuditLog: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AuditEntry) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await database.query(
            """
            INSERT INTO audit_log (actor_user_id, actor_name, action, subject, address, details)
            VALUES (\(entry.actorUserID), \(entry.actorName), \(entry.action), \(entry.subject), \(entry.address), \(details)::jsonb)
            """
        )
    }
}
