import Foundation
import Logging

/// API tokens for integrations: issued with a name and a scope (shown once), listed, revoked.
/// The tokens page and `kaoping token …` both go through here.
public struct TokenService: Sendable {
    let database: Database
    let tokens: APITokenRepository

    public init(database: Database, tokens: APITokenRepository) {
        self.database = database
        self.tokens = tokens
    }

    /// The longest name a token may have.
    public static let longestName = 100

    /// A token's name as kept: trimmed, 1 to 100 characters; `nil` if it cannot be one.
    public static func name(_ text: String) -> String? {
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return (1...longestName).contains(name.count) ? name : nil
    }

    /// Issues a token with its audit entry; `nil` when the name cannot be a token's name.
    public func issue(name text: String, scope: APIScope, actor: AuditActor, logger: Logger) async throws -> (id: UUID, token: String)? {
        guard let name = Self.name(text) else { return nil }
        return try await database.transaction(logger: logger) { connection in
            let issued = try await tokens.create(name: name, scope: scope, createdBy: actor.userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "api.token.created",
                    actor: actor,
                    subject: issued.id.uuidString.lowercased(),
                    details: ["name": name, "scope": scope.rawValue]
                ),
                on: connection,
                logger: logger
            )
            return issued
        }
    }

    public func list() async throws -> [APIToken] {
        try await tokens.list()
    }

    /// Revokes a live token with its audit entry; `false` when there is no such live token.
    public func revoke(id: UUID, actor: AuditActor, logger: Logger) async throws -> Bool {
        try await database.transaction(logger: logger) { connection in
            guard try await tokens.revoke(id: id, on: connection, logger: logger) else { return false }
            try await AuditLog.record(
                .init(action: "api.token.revoked", actor: actor, subject: id.uuidString.lowercased()),
                on: connection,
                logger: logger
            )
            return true
        }
    }
}
