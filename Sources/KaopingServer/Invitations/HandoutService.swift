import Foundation
import Logging

/// What a round hands out to the people who answer: members' invitations (issued, or one
/// member's issued again), visit codes for the public, and how each branch takes public
/// answers. Each is one transaction with its audit entry, which names how many were made but
/// never a link or a code; the round page and `kaoping invitations …` / `kaoping visits …`
/// both call these.
public struct HandoutService: Sendable {
    let database: Database
    let invitations: InvitationRepository
    let visitCodes: VisitCodeRepository

    public init(database: Database, invitations: InvitationRepository, visitCodes: VisitCodeRepository) {
        self.database = database
        self.invitations = invitations
        self.visitCodes = visitCodes
    }

    /// Gives every active member of the round's branches who has none a live invitation;
    /// returns how many were issued (running it again issues only the missing ones, and stores
    /// the short codes of invitations issued before codes were stored with them).
    public func issueInvitations(round: UUID, actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            let issued = try await invitations.issue(roundID: round, on: connection, logger: logger)
            if issued > 0 {
                try await AuditLog.record(
                    .init(action: "round.invitations_issued", actor: actor, subject: Self.subject(round), details: ["issued": String(issued)]),
                    on: connection,
                    logger: logger
                )
            }
            return issued
        }
    }

    /// Revokes a member's unused invitation and issues a new one; the old link stops working.
    /// Nil when the member has none to replace (not in the round, inactive, or answered).
    public func reissueInvitation(round: UUID, staffNumber: String, actor: AuditActor, logger: Logger) async throws -> String? {
        try await database.transaction(logger: logger) { connection in
            let token = try await invitations.reissue(roundID: round, staffNumber: staffNumber, on: connection, logger: logger)
            if token != nil {
                try await AuditLog.record(
                    .init(action: "round.invitation_reissued", actor: actor, subject: Self.subject(round), details: ["staff": staffNumber]),
                    on: connection,
                    logger: logger
                )
            }
            return token
        }
    }

    /// A new batch of `count` visit codes for each given branch (all of the round's when empty).
    public func issueVisitCodes(round: UUID, branchCodes: [String], count: Int, actor: AuditActor, logger: Logger) async throws -> [VisitCode] {
        try await database.transaction(logger: logger) { connection in
            let made = try await visitCodes.issue(roundID: round, branchCodes: branchCodes, count: count, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "round.visit_codes_issued",
                    actor: actor,
                    subject: Self.subject(round),
                    details: ["branches": Self.branches(branchCodes), "per_branch": String(count), "issued": String(made.count)]
                ),
                on: connection,
                logger: logger
            )
            return made
        }
    }

    /// How the given branches (all of the round's when empty) take public answers; returns how
    /// many branches were set.
    public func setPublicAccess(round: UUID, branchCodes: [String], access: PublicAccess, actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            let changed = try await visitCodes.setAccess(roundID: round, branchCodes: branchCodes, access: access, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "round.public_access_set",
                    actor: actor,
                    subject: Self.subject(round),
                    details: ["branches": Self.branches(branchCodes), "access": access.rawValue, "changed": String(changed)]
                ),
                on: connection,
                logger: logger
            )
            return changed
        }
    }

    private static func subject(_ round: UUID) -> String { round.uuidString.lowercased() }
    private static func branches(_ codes: [String]) -> String { codes.isEmpty ? "all" : codes.joined(separator: ",") }
}
