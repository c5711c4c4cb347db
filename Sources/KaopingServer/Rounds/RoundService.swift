import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// A round's life as the office runs it: created from a spec, corrected while a draft (changed
/// or deleted), opened, closed, given a later deadline, reopened or cancelled with a reason,
/// joined by branches, and its evaluators assigned and removed. Each is one transaction with
/// its audit entry; the round pages and `kaoping round …` both call these.
public struct RoundService: Sendable {
    let database: Database
    let rounds: RoundRepository
    let sheets: SheetRepository
    let invitations: InvitationRepository

    public init(database: Database, rounds: RoundRepository, sheets: SheetRepository, invitations: InvitationRepository) {
        self.database = database
        self.rounds = rounds
        self.sheets = sheets
        self.invitations = invitations
    }

    /// Creates a round. A closing time must lie ahead; a close outside the round's year and
    /// the next, or a business year without results, is refused with
    /// `RoundError.needsConfirmation` unless `acceptingWarnings` says the person has seen it.
    public func create(
        _ spec: RoundSpec,
        acceptingWarnings: Bool = false,
        actor: AuditActor,
        logger: Logger,
        now: Date = .now
    ) async throws -> UUID {
        if let closes = spec.closesAt, closes <= now { throw RoundError.closingTimePassed }
        return try await database.transaction(logger: logger) { connection in
            // Made first, so that what is wrong is said before what is unusual; a warning
            // not yet accepted rolls the whole of it back.
            let id = try await rounds.create(spec, actor: actor, on: connection, logger: logger)
            try await checkWarnings(spec, accepted: acceptingWarnings, on: connection, logger: logger)
            return id
        }
    }

    /// Changes a round that has not opened to what `spec` says, by the same rules as creating it.
    /// Returns the codes of branches it no longer includes.
    @discardableResult
    public func update(
        _ id: UUID,
        to spec: RoundSpec,
        acceptingWarnings: Bool = false,
        actor: AuditActor,
        logger: Logger,
        now: Date = .now
    ) async throws -> [String] {
        let problems = spec.configuration.problems()
        guard problems.isEmpty else { throw RoundError.invalid(problems) }
        if let closes = spec.closesAt, closes <= now { throw RoundError.closingTimePassed }
        return try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status.canEdit else { throw RoundError.wrongStatus(current: status, action: .edited) }
            let removed = try await rounds.replaceDraft(id, with: spec, on: connection, logger: logger)
            try await checkWarnings(spec, accepted: acceptingWarnings, on: connection, logger: logger)
            var details = ["title": spec.title]
            if !removed.isEmpty { details["branches_removed"] = removed.joined(separator: ",") }
            try await AuditLog.record(
                .init(action: "round.edited", actor: actor, subject: Self.subject(id), details: details),
                on: connection,
                logger: logger
            )
            return removed
        }
    }

    /// Deletes a round that never opened; the audit log keeps its title.
    public func delete(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status.canEdit else { throw RoundError.wrongStatus(current: status, action: .deleted) }
            let title = try await rounds.deleteDraft(id, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "round.deleted", actor: actor, subject: Self.subject(id), details: ["title": title]),
                on: connection,
                logger: logger
            )
        }
    }

    /// Cancels (作废) a round that opened, with a reason: its answers stay stored, and it leaves
    /// the home pages, the rounds list, rankings, branch records and the secretaries' views.
    public func cancel(_ id: UUID, reason: String, actor: AuditActor, logger: Logger) async throws {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw RoundError.reasonRequired }
        try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status.canCancel else { throw RoundError.wrongStatus(current: status, action: .cancelled) }
            try await rounds.cancel(id, reason: reason, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "round.cancelled", actor: actor, subject: Self.subject(id), details: ["reason": reason, "was": status.rawValue]),
                on: connection,
                logger: logger
            )
        }
    }

    /// Adds branches to a round that has not closed. An open round's new branches get their
    /// members' invitations at once (and any other member of the round still without one).
    public func addBranches(_ id: UUID, codes: [String], actor: AuditActor, logger: Logger) async throws -> (added: [String], invitations: Int) {
        guard !codes.isEmpty else { throw RoundError.noBranches }
        return try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status.canAddBranches else { throw RoundError.wrongStatus(current: status, action: .branchesAdded) }
            let added = try await rounds.addBranches(id, codes: codes, on: connection, logger: logger)
            guard !added.isEmpty else { return ([], 0) }
            let issued = status == .open ? try await invitations.issue(roundID: id, on: connection, logger: logger) : 0
            try await AuditLog.record(
                .init(
                    action: "round.branches_added",
                    actor: actor,
                    subject: Self.subject(id),
                    details: ["branches": added.joined(separator: ","), "invitations": String(issued)]
                ),
                on: connection,
                logger: logger
            )
            return (added, issued)
        }
    }

    /// The warnings a spec raises, for a page to show before the person confirms.
    private func checkWarnings(_ spec: RoundSpec, accepted: Bool, on connection: PostgresConnection, logger: Logger) async throws {
        guard !accepted else { return }
        let warnings = RoundDates.warnings(
            year: spec.year,
            closesAt: spec.closesAt,
            performanceYear: spec.configuration.integrationSettings.performanceYear ?? spec.year,
            yearsWithResults: try await rounds.yearsWithPerformanceResults(on: connection, logger: logger),
            timeZone: ChinaTime.zone
        )
        guard warnings.isEmpty else { throw RoundError.needsConfirmation(warnings) }
    }

    private static func subject(_ id: UUID) -> String { id.uuidString.lowercased() }

    public func open(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await rounds.open(id, actor: actor, logger: logger)
    }

    /// False when another instance closed it first.
    @discardableResult
    public func close(_ id: UUID, actor: AuditActor, logger: Logger) async throws -> Bool {
        try await rounds.close(id, actor: actor, logger: logger)
    }

    /// A new deadline must lie ahead: one already past would close the round at the next tick.
    public func extend(_ id: UUID, closesAt: Date, actor: AuditActor, logger: Logger, now: Date = .now) async throws {
        guard closesAt > now else { throw RoundError.closingTimePassed }
        try await rounds.extend(id, closesAt: closesAt, actor: actor, logger: logger)
    }

    public func reopen(_ id: UUID, closesAt: Date, reason: String, actor: AuditActor, logger: Logger, now: Date = .now) async throws {
        guard closesAt > now else { throw RoundError.closingTimePassed }
        try await rounds.reopen(id, closesAt: closesAt, reason: reason, actor: actor, logger: logger)
    }

    /// Makes the round's kept tallies again from its responses (`kaoping tallies rebuild`), for
    /// when `TallyRepository.verify` finds one that differs. Returns how many it keeps.
    public func rebuildTallies(_ id: UUID, actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            guard try await connection.changes("SELECT 1 FROM rounds WHERE id = \(id) FOR UPDATE", logger: logger) else {
                throw RoundError.notFound
            }
            let kept = try await TallyRepository.rebuild(roundID: id, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "round.tallies_rebuilt", actor: actor, subject: Self.subject(id), details: ["tallies": "\(kept)"]),
                on: connection,
                logger: logger
            )
            return kept
        }
    }

    /// Opens and closes what is due; the scheduler of every instance calls it.
    public func runDue(logger: Logger) async throws -> (opened: [UUID], closed: [UUID]) {
        try await rounds.runDue(logger: logger)
    }

    /// Assigns an evaluator to branches of a round (all of them when `branchCodes` is empty).
    /// Returns how many assignments are new; assigning what was assigned changes nothing and
    /// writes no entry. An unknown or unsuitable account, or codes that are not branches of
    /// the round, are refused by name (`AssignmentProblem`) and nothing is assigned.
    public func assignEvaluator(round: UUID, username: String, branchCodes: [String], actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            try await HandoutService.requireHandouts(round, on: connection, logger: logger)
            let assigned = try await sheets.assign(roundID: round, username: username, branchCodes: branchCodes, on: connection, logger: logger)
            if assigned > 0 {
                try await AuditLog.record(
                    .init(
                        action: "round.evaluator_assigned",
                        actor: actor,
                        subject: round.uuidString.lowercased(),
                        details: [
                            "user": username, "branches": branchCodes.isEmpty ? "all" : branchCodes.joined(separator: ","), "new": String(assigned),
                        ]
                    ),
                    on: connection,
                    logger: logger
                )
            }
            return assigned
        }
    }

    /// Takes an evaluator off a branch of a round, with their sheet for it (a submitted one
    /// only when `discardingSubmitted`); a closed round's assignments stay.
    public func removeEvaluator(
        round: UUID,
        userID: UUID,
        branchCode: String,
        discardingSubmitted: Bool,
        actor: AuditActor,
        logger: Logger
    ) async throws -> UnassignOutcome {
        try await database.transaction(logger: logger) { connection in
            let outcome = try await sheets.unassign(
                roundID: round,
                userID: userID,
                branchCode: branchCode,
                discardingSubmitted: discardingSubmitted,
                on: connection,
                logger: logger
            )
            if case .removed(let sheet) = outcome {
                try await AuditLog.record(
                    .init(
                        action: "round.evaluator_removed",
                        actor: actor,
                        subject: round.uuidString.lowercased(),
                        details: ["user": userID.uuidString.lowercased(), "branch": branchCode, "sheet": sheet ?? "none"]
                    ),
                    on: connection,
                    logger: logger
                )
            }
            return outcome
        }
    }
}
