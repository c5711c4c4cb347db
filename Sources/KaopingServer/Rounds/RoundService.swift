import Foundation
import Logging

/// A round's life as the office runs it: created from a spec, opened, closed, given a later
/// deadline, reopened with a reason, and its evaluators assigned and removed. Each is one
/// transaction with its audit entry; the round pages and `kaoping round …` both call these.
public struct RoundService: Sendable {
    let database: Database
    let rounds: RoundRepository
    let sheets: SheetRepository

    public init(database: Database, rounds: RoundRepository, sheets: SheetRepository) {
        self.database = database
        self.rounds = rounds
        self.sheets = sheets
    }

    public func create(_ spec: RoundSpec, actor: AuditActor, logger: Logger) async throws -> UUID {
        try await rounds.create(spec, actor: actor, logger: logger)
    }

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
