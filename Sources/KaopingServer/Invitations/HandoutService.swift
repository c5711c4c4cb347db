import Foundation
import Logging
import PostgresNIO

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
            try await Self.requireHandouts(round, on: connection, logger: logger)
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
            try await Self.requireHandouts(round, on: connection, logger: logger)
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
            try await Self.requireHandouts(round, on: connection, logger: logger)
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
            try await Self.requireHandouts(round, on: connection, logger: logger)
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

    /// Marks branches (all of the round's when empty) as answering their public link from a
    /// shared device, where one browser may answer again and those answers are counted; or
    /// back to one answer per browser. Returns how many branches were set.
    public func setSharedDevice(round: UUID, branchCodes: [String], shared: Bool, actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            try await Self.requireHandouts(round, on: connection, logger: logger)
            let changed = try await visitCodes.setSharedDevice(
                roundID: round,
                branchCodes: branchCodes,
                shared: shared,
                on: connection,
                logger: logger
            )
            try await AuditLog.record(
                .init(
                    action: "round.shared_device_set",
                    actor: actor,
                    subject: Self.subject(round),
                    details: ["branches": Self.branches(branchCodes), "shared": shared ? "yes" : "no", "changed": String(changed)]
                ),
                on: connection,
                logger: logger
            )
            return changed
        }
    }

    /// A closed or cancelled round hands nothing out any more: its answers are final.
    /// (A round that does not exist is left to the step that follows, which names it so.)
    static func requireHandouts(_ round: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        for try await status in try await connection.query("SELECT status FROM rounds WHERE id = \(round) FOR UPDATE", logger: logger).decode(
            RoundStatus.self
        ) where !status.takesHandouts {
            throw RoundError.wrongStatus(current: status, action: .handedOut)
        }
    }

    private static func subject(_ round: UUID) -> String { round.uuidString.lowercased() }
    private static func branches(_ codes: [String]) -> String { codes.isEmpty ? "all" : codes.joined(separator: ",") }
}
