import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// Rounds and their life: draft or scheduled → open → closed (and, with a reason, open again).
public struct RoundRepository: Sendable {
    public let database: Database
    let forms: FormCatalog
    /// Frozen form versions, for scoring a round at close.
    let frozenForms: FormRepository
    /// Opens the ballots still waiting in the box when the round closes.
    let seal: BallotSeal

    public init(database: Database, forms: FormCatalog, frozenForms: FormRepository, seal: BallotSeal) {
        self.database = database
        self.forms = forms
        self.seal = seal
        self.frozenForms = frozenForms
    }

    // MARK: Creating

    public func create(_ spec: RoundSpec, actor: AuditActor, logger: Logger) async throws -> UUID {
        try await database.transaction(logger: logger) { connection in
            try await create(spec, actor: actor, on: connection, logger: logger)
        }
    }

    func create(_ spec: RoundSpec, actor: AuditActor, on connection: PostgresConnection, logger: Logger) async throws -> UUID {
        let problems = spec.configuration.problems()
        guard problems.isEmpty else { throw RoundError.invalid(problems) }
        try checkForms(spec)
        let configuration = try Self.json(spec.configuration)
        let status: RoundStatus = spec.opensAt == nil ? .draft : .scheduled
        let branches = try await Self.activeBranches(spec.branches, on: connection, logger: logger)
        guard !branches.isEmpty else { throw RoundError.noBranches }
        var roundID: UUID?
        for try await id in try await connection.query(
            """
            INSERT INTO rounds (title, year, status, config, opens_at, closes_at, created_by)
            VALUES (\(spec.title), \(spec.year), \(status), \(configuration)::jsonb, \(spec.opensAt), \(spec.closesAt), \(actor.userID))
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { roundID = id }
        let round = roundID!
        try await Self.insertGroups(spec, roundID: round, on: connection, logger: logger)
        try await Self.insertBranches(branches.map(\.id), roundID: round, publicCap: spec.publicCap, on: connection, logger: logger)
        try await AuditLog.record(
            .init(action: "round.created", actor: actor, subject: round.uuidString.lowercased(), details: ["title": spec.title]),
            on: connection,
            logger: logger
        )
        return round
    }

    // MARK: Life cycle

    /// Opens a draft or scheduled round now: freezes its forms and configuration.
    public func open(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status.canOpen else { throw RoundError.wrongStatus(current: status, action: .opened) }
            // Its closing time must lie ahead, by the database's clock, which stamps the opening.
            var closes: Date?
            var ahead = false
            for try await row in try await connection.query("SELECT closes_at, closes_at > now() FROM rounds WHERE id = \(id)", logger: logger) {
                let (closing, isAhead) = try row.decode((Date?, Bool?).self)
                closes = closing
                ahead = isAhead ?? false
            }
            guard closes != nil else { throw RoundError.noClosingTime }
            guard ahead else { throw RoundError.closingTimePassed }
            try await freezeAndOpen(id, connection: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "round.opened", actor: actor, subject: id.uuidString.lowercased()),
                on: connection,
                logger: logger
            )
        }
    }

    /// Closes an open round: empties the ballot box into the responses, stamps it closed and
    /// stores the final result snapshot, all in one transaction, exactly once.
    @discardableResult
    public func close(_ id: UUID, actor: AuditActor, logger: Logger) async throws -> Bool {
        let closed = try await database.transaction(logger: logger) { connection -> Bool in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status.canClose else { throw RoundError.wrongStatus(current: status, action: .closed) }
            guard try await closeLocked(id, connection: connection, logger: logger) else { return false }
            try await AuditLog.record(
                .init(action: "round.closed", actor: actor, subject: id.uuidString.lowercased()),
                on: connection,
                logger: logger
            )
            return true
        }
        return closed
    }

    /// Gives an open round a later deadline.
    public func extend(_ id: UUID, closesAt: Date, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status.canExtend else { throw RoundError.wrongStatus(current: status, action: .extended) }
            try await connection.execute(
                "UPDATE rounds SET closes_at = \(closesAt), updated_at = now() WHERE id = \(id) AND (opens_at IS NULL OR opens_at < \(closesAt))",
                logger: logger
            )
            try await AuditLog.record(
                .init(action: "round.extended", actor: actor, subject: id.uuidString.lowercased(), details: ["closes": ChinaTime.format(closesAt)]),
                on: connection,
                logger: logger
            )
        }
    }

    /// Reopens a closed round until `closesAt`; only with a reason, which the audit log keeps.
    public func reopen(_ id: UUID, closesAt: Date, reason: String, actor: AuditActor, logger: Logger) async throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw RoundError.reasonRequired }
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status.canReopen else { throw RoundError.wrongStatus(current: status, action: .reopened) }
            try await connection.execute(
                "DELETE FROM result_snapshots WHERE round_id = \(id) AND kind = 'final'",
                logger: logger
            )
            // Its integrated sheet and its branches' year are stored again at the next close.
            try await connection.execute("DELETE FROM integrated_sheets WHERE round_id = \(id)", logger: logger)
            try await connection.execute("DELETE FROM branch_years WHERE round_id = \(id)", logger: logger)
            try await connection.execute(
                // A publicity set for the results it had is set again after the next close.
                """
                UPDATE rounds SET status = \(RoundStatus.open), closed_at = NULL, closes_at = \(closesAt), updated_at = now(),
                  publicity_starts_at = NULL, publicity_ends_at = NULL
                WHERE id = \(id)
                """,
                logger: logger
            )
            try await AuditLog.record(
                .init(
                    action: "round.reopened",
                    actor: actor,
                    subject: id.uuidString.lowercased(),
                    details: ["reason": reason, "closes": ChinaTime.format(closesAt)]
                ),
                on: connection,
                logger: logger
            )
        }
    }

    /// Opens scheduled rounds whose time has come and closes open ones that are due. Safe to
    /// run from every instance at once: each round is taken under a row lock, skipping rounds
    /// another instance holds, and its status is checked again under the lock.
    public func runDue(logger: Logger) async throws -> (opened: [UUID], closed: [UUID]) {
        var opened: [UUID] = []
        var closed: [UUID] = []
        let due = try await database.query(
            """
            SELECT id FROM rounds
            WHERE (status = \(RoundStatus.scheduled) AND opens_at <= now() AND closes_at IS NOT NULL)
               OR (status = \(RoundStatus.open) AND closes_at <= now())
            """
        ).map { try $0.decode(UUID.self) }
        for id in due {
            let outcome = try await database.transaction(logger: logger) { connection -> RoundAction? in
                var due: RoundAction?
                for try await (status, opensDue, closesDue) in try await connection.query(
                    """
                    SELECT status, opens_at <= now(), coalesce(closes_at <= now(), false) FROM rounds
                    WHERE id = \(id) FOR UPDATE SKIP LOCKED
                    """,
                    logger: logger
                ).decode((RoundStatus, Bool?, Bool).self) {
                    if status == .scheduled && opensDue == true { due = .opened }
                    if status == .open && closesDue { due = .closed }
                }
                switch due {
                case .opened:
                    try await freezeAndOpen(id, connection: connection, logger: logger)
                case .closed:
                    guard try await closeLocked(id, connection: connection, logger: logger) else { return nil }
                default:
                    return nil
                }
                let action = due == .opened ? "round.opened" : "round.closed"
                try await AuditLog.record(
                    .init(action: action, actor: .scheduler, subject: id.uuidString.lowercased()),
                    on: connection,
                    logger: logger
                )
                return due
            }
            switch outcome {
            case .opened: opened.append(id)
            case .closed: closed.append(id)
            default: break
            }
        }
        return (opened, closed)
    }

    // MARK: Steps

    private func freezeAndOpen(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws {
        // Each group gets the form version frozen from the file as it is now.
        var missing: [String] = []
        for try await (form, found) in try await connection.query(
            """
            UPDATE round_groups g SET form_version_id = (
              SELECT v.id FROM form_versions v WHERE v.form_key = g.form_key ORDER BY v.created_at DESC LIMIT 1)
            WHERE g.round_id = \(id)
            RETURNING g.form_key, g.form_version_id IS NOT NULL
            """,
            logger: logger
        ).decode((String, Bool).self) where !found { missing.append(form) }
        if let form = missing.first { throw RoundError.formNotAvailable(form) }
        try await connection.execute(
            """
            UPDATE round_branches rb SET eligible_members =
              (SELECT count(*)::int FROM members m WHERE m.branch_id = rb.branch_id AND m.active)
            WHERE rb.round_id = \(id)
            """,
            logger: logger
        )
        // The hash covers the scoring configuration and the exact forms: results carry it.
        try await connection.execute(
            """
            UPDATE rounds r SET status = \(RoundStatus.open), opened_at = now(), updated_at = now(),
              opens_at = coalesce(least(r.opens_at, now()), now()),
              config_hash = encode(sha256(convert_to(r.config::text || (
                SELECT string_agg(g.rater_group || ':' || v.checksum, ',' ORDER BY g.rater_group)
                FROM round_groups g JOIN form_versions v ON v.id = g.form_version_id WHERE g.round_id = r.id), 'UTF8')), 'hex')
            WHERE r.id = \(id)
            """,
            logger: logger
        )
    }

    private func closeLocked(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws -> Bool {
        var stamped = false
        for try await _ in try await connection.query(
            """
            UPDATE rounds SET status = \(RoundStatus.closed), closed_at = now(), updated_at = now()
            WHERE id = \(id) AND status = \(RoundStatus.open) RETURNING 1
            """,
            logger: logger
        ) { stamped = true }
        guard stamped else { return false }
        // Ballots still waiting in the box join the responses, shuffled, whatever their number.
        _ = try await BallotBox.flush(roundID: id, seal: seal, connection: connection, logger: logger)
        // The final results, computed in this transaction from everything it has just mixed
        // in, stored once (docs/scoring.md).
        guard let result = try await ResultsRepository.compute(roundID: id, forms: frozenForms, connection: connection, logger: logger) else {
            return true
        }
        let json = try await ResultsJSON.text(result)
        try await connection.execute(
            """
            INSERT INTO result_snapshots (round_id, kind, method_version, config_hash, results)
            VALUES (\(id), 'final', \(result.methodVersion), \(result.configurationHash), \(json)::jsonb)
            ON CONFLICT (round_id) WHERE kind = 'final' DO NOTHING
            """,
            logger: logger
        )
        try await BranchHistoryRepository.record(roundID: id, connection: connection, logger: logger)
        // With the year's business results, if they are in: the integrated sheet is frozen too.
        try await IntegratedSheets.freeze(roundID: id, version: nil, connection: connection, logger: logger)
        return true
    }

    static func lockedStatus(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws -> RoundStatus {
        var status: RoundStatus?
        for try await value in try await connection.query("SELECT status FROM rounds WHERE id = \(id) FOR UPDATE", logger: logger).decode(
            RoundStatus.self
        ) {
            status = value
        }
        guard let status else { throw RoundError.notFound }
        return status
    }

    static func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension PostgresConnection {
    /// The codes among `codes` that name no branch of the round, each once, in the order typed:
    /// what an administrator is told when a form names branches the round does not have.
    func codesNotInRound(_ codes: [String], roundID: UUID, logger: Logger) async throws -> [String] {
        guard !codes.isEmpty else { return [] }
        var known = Set<String>()
        for try await code in try await query(
            "SELECT b.code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(roundID) AND b.code = ANY(\(codes)::text[])",
            logger: logger
        ).decode(String.self) { known.insert(code) }
        var seen = Set<String>()
        return codes.filter { !known.contains($0) && seen.insert($0).inserted }
    }
}
