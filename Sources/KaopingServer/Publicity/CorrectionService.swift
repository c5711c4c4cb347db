import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// A correction to a round's results before they are final, on record (docs/publicity.md).
public struct Correction: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// An evaluator's organisation sheet amended; the old entries are kept.
        case sheet
        /// A ballot found invalid: it stays stored and counts nowhere.
        case ballot
        /// A grade set by the committee's decision over the method's.
        case grade
    }

    public let id: UUID
    public let kind: Kind
    public let branchCode: String
    public let branchName: String
    public let reason: String
    /// The receipt of the objection it answers, if any.
    public let objectionReceipt: String?
    public let madeAt: Date
    public let madeBy: String?
    public let changes: [ResultChange]
}

/// Corrections to a closed round's results, or one in publicity: each changes one input on
/// record, recomputes the results through the same method in the same transaction, keeps the
/// snapshot it replaces (marked superseded), writes the branches' year again, freezes the
/// integrated sheet again with the performance version it had, and stores the difference list.
public struct CorrectionService: Sendable {
    let database: Database
    let forms: FormRepository

    public init(database: Database, forms: FormRepository) {
        self.database = database
        self.forms = forms
    }

    public enum Problem: Error, Equatable {
        case reasonRequired
        case unknownBranch(String)
        /// No submitted sheet of that evaluator for that branch.
        case noSuchSheet
        /// The item is not on the sheet's form, or the value does not fit it.
        case unknownItem(String)
        case valueOutOfRange(item: String, maximum: Double)
        /// No response of the round has that id.
        case noSuchBallot
        case ballotExcludedAlready
        case unknownGrade(String)
        /// No objection of the round with that receipt (or id).
        case unknownObjection(receipt: String?)
    }

    /// What one sheet item is amended to: points lost (deduction), earned (bonus), or passed (baseline).
    public enum SheetValue: Sendable, Equatable {
        case points(Double)
        case passed(Bool)
    }

    // MARK: The three corrections

    public func amendSheet(
        round: UUID,
        branchCode: String,
        evaluator: String,
        item: String,
        value: SheetValue,
        reason: String,
        objection: UUID? = nil,
        actor: AuditActor,
        logger: Logger
    ) async throws -> Correction {
        try await correct(round: round, kind: .sheet, branchCode: branchCode, reason: reason, objection: objection, actor: actor, logger: logger) {
            connection,
            branch in
            var found: (UUID, UUID)?
            for try await row in try await connection.query(
                """
                SELECT s.id, s.form_version_id FROM org_sheets s JOIN users u ON u.id = s.evaluator_id
                WHERE s.round_id = \(round) AND s.branch_id = \(branch) AND lower(u.username) = lower(\(evaluator)) AND s.status = 'submitted'
                FOR UPDATE OF s
                """,
                logger: logger
            ).decode((UUID, UUID).self) { found = row }
            guard let (sheet, version) = found, let form = try await forms.definition(id: version) else { throw Problem.noSuchSheet }
            guard let formItem = form.items.first(where: { $0.key == item }) else { throw Problem.unknownItem(item) }
            var lost: Double?
            var earned: Double?
            var passed: Bool?
            switch (formItem.type, value) {
            case (.deduction, .points(let points)), (.bonus, .points(let points)):
                let maximum = formItem.maximum ?? 0
                guard points >= 0, points <= maximum else { throw Problem.valueOutOfRange(item: item, maximum: maximum) }
                if formItem.type == .deduction { lost = points } else { earned = points }
            case (.baseline, .passed(let value)):
                passed = value
            default:
                throw Problem.unknownItem(item)
            }
            var before: [String: String] = [:]
            for try await (oldLost, oldEarned, oldPassed, note) in try await connection.query(
                "SELECT points_lost, points_earned, passed, note FROM org_sheet_entries WHERE sheet_id = \(sheet) AND item_key = \(item)",
                logger: logger
            ).decode((Double?, Double?, Bool?, String).self) {
                before = Self.entry(lost: oldLost, earned: oldEarned, passed: oldPassed)
                before["note"] = note
            }
            try await connection.execute(
                """
                INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost, points_earned, passed)
                VALUES (\(sheet), \(item), \(lost), \(earned), \(passed))
                ON CONFLICT (sheet_id, item_key) DO UPDATE SET points_lost = excluded.points_lost,
                  points_earned = excluded.points_earned, passed = excluded.passed
                """,
                logger: logger
            )
            return [
                "sheet": sheet.lowercased, "evaluator": evaluator, "item": item, "before": Self.text(before),
                "after": Self.text(Self.entry(lost: lost, earned: earned, passed: passed)),
            ]
        }
    }

    public func excludeBallot(
        round: UUID,
        response: UUID,
        reason: String,
        objection: UUID? = nil,
        actor: AuditActor,
        logger: Logger
    ) async throws -> Correction {
        var code: String?
        for row in try await database.query(
            "SELECT b.code FROM responses r JOIN branches b ON b.id = r.branch_id WHERE r.id = \(response) AND r.round_id = \(round)"
        ) { code = try row.decode(String.self) }
        guard let code else { throw Problem.noSuchBallot }
        return try await correct(round: round, kind: .ballot, branchCode: code, reason: reason, objection: objection, actor: actor, logger: logger) {
            connection,
            _ in
            ["response": response.lowercased]
        } after: { connection, correction in
            guard
                try await connection.updated(
                    "UPDATE responses SET excluded_by = \(correction) WHERE id = \(response) AND excluded_by IS NULL RETURNING 1",
                    logger: logger
                )
            else { throw Problem.ballotExcludedAlready }
        }
    }

    public func decideGrade(
        round: UUID,
        branchCode: String,
        grade: String,
        reason: String,
        objection: UUID? = nil,
        actor: AuditActor,
        logger: Logger
    ) async throws -> Correction {
        try await correct(round: round, kind: .grade, branchCode: branchCode, reason: reason, objection: objection, actor: actor, logger: logger) {
            connection,
            _ in
            var config = ""
            for try await text in try await connection.query("SELECT config::text FROM rounds WHERE id = \(round)", logger: logger).decode(
                String.self
            ) {
                config = text
            }
            guard RoundRepository.configuration(json: config).bands.contains(where: { $0.grade == grade }) else { throw Problem.unknownGrade(grade) }
            return ["grade": grade]
        } after: { connection, correction in
            try await connection.execute(
                """
                INSERT INTO grade_decisions (round_id, branch_id, grade, reason, correction_id)
                SELECT \(round), b.id, \(grade), \(reason), \(correction) FROM branches b WHERE b.code = \(branchCode)
                ON CONFLICT (round_id, branch_id) DO UPDATE SET grade = excluded.grade, reason = excluded.reason,
                  correction_id = excluded.correction_id
                """,
                logger: logger
            )
        }
    }

    /// The objection a correction answers, by the receipt the administrator types (2026-AB12CD).
    public func objection(receipt: String, round: UUID) async throws -> UUID {
        let receipt = receipt.trimmingCharacters(in: .whitespaces).uppercased()
        guard
            let id = try await database.query("SELECT id FROM objections WHERE receipt = \(receipt) AND round_id = \(round)").first?.decode(
                UUID.self
            )
        else { throw Problem.unknownObjection(receipt: receipt) }
        return id
    }

    // MARK: Reading

    /// A round's corrections, newest first, with their difference lists.
    public func list(round: UUID) async throws -> [Correction] {
        try await database.query(
            """
            SELECT c.id, c.kind, b.code, b.name, c.reason, o.receipt, c.made_at, u.username, c.differences::text
            FROM result_corrections c JOIN branches b ON b.id = c.branch_id
            LEFT JOIN objections o ON o.id = c.objection_id LEFT JOIN users u ON u.id = c.made_by
            WHERE c.round_id = \(round) ORDER BY c.made_at DESC
            """
        ).map { row in
            var cells = RowCells(row)
            return Correction(
                id: try cells.next(UUID.self),
                kind: Correction.Kind(rawValue: try cells.next(String.self)) ?? .grade,
                branchCode: try cells.next(String.self),
                branchName: try cells.next(String.self),
                reason: try cells.next(String.self),
                objectionReceipt: try cells.next(String?.self),
                madeAt: try cells.next(Date.self),
                madeBy: try cells.next(String?.self),
                changes: (try? JSONDecoder().decode([ResultChange].self, from: Data(try cells.next(String.self).utf8))) ?? []
            )
        }
    }

    // MARK: The one way results change

    private func correct(
        round: UUID,
        kind: Correction.Kind,
        branchCode: String,
        reason: String,
        objection: UUID?,
        actor: AuditActor,
        logger: Logger,
        change: @escaping @Sendable (PostgresConnection, UUID) async throws -> [String: String],
        after: (@Sendable (PostgresConnection, UUID) async throws -> Void)? = nil
    ) async throws -> Correction {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw Problem.reasonRequired }
        let forms = self.forms
        let id = try await database.transaction(logger: logger) { connection -> UUID in
            let status = try await RoundRepository.lockedStatus(round, connection: connection, logger: logger)
            guard status.canCorrect else { throw RoundError.wrongStatus(current: status, action: .corrected) }
            var branch: UUID?
            for try await value in try await connection.query(
                "SELECT b.id FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(round) AND b.code = \(branchCode)",
                logger: logger
            ).decode(UUID.self) { branch = value }
            guard let branch else { throw Problem.unknownBranch(branchCode) }
            if let objection {
                guard try await connection.returnsRows("SELECT 1 FROM objections WHERE id = \(objection) AND round_id = \(round)", logger: logger)
                else {
                    throw Problem.unknownObjection(receipt: nil)
                }
            }
            let details = try await change(connection, branch)
            let detailsJSON = try RoundRepository.json(details)
            var correction: UUID?
            for try await value in try await connection.query(
                """
                INSERT INTO result_corrections (round_id, objection_id, kind, branch_id, reason, details, made_by)
                VALUES (\(round), \(objection), \(kind.rawValue), \(branch), \(reason), \(detailsJSON)::jsonb, \(actor.userID))
                RETURNING id
                """,
                logger: logger
            ).decode(UUID.self) { correction = value }
            let made = correction!
            try await after?(connection, made)
            let changes = try await Self.recompute(round: round, correction: made, forms: forms, connection: connection, logger: logger)
            var audit = details
            audit["kind"] = kind.rawValue
            audit["branch"] = branchCode
            audit["reason"] = reason
            audit["changes"] = String(changes)
            if let objection { audit["objection"] = objection.lowercased }
            try await AuditLog.record(
                .init(action: "round.corrected", actor: actor, subject: round.lowercased, details: audit),
                on: connection,
                logger: logger
            )
            return made
        }
        guard let correction = try await list(round: round).first(where: { $0.id == id }) else { throw Problem.unknownBranch(branchCode) }
        return correction
    }

    /// Computes the round's results again, supersedes the final snapshot with them, writes the
    /// branches' year and the integrated sheet again, and stores the difference list on the
    /// correction. Returns how many figures changed.
    static func recompute(round: UUID, correction: UUID, forms: FormRepository, connection: PostgresConnection, logger: Logger) async throws -> Int {
        var previous: (UUID, String)?
        for try await row in try await connection.query(
            "SELECT id, results::text FROM result_snapshots WHERE round_id = \(round) AND kind = 'final' FOR UPDATE",
            logger: logger
        ).decode((UUID, String).self) { previous = row }
        guard let (previousID, previousText) = previous,
            let result = try await ResultsRepository.compute(roundID: round, forms: forms, connection: connection, logger: logger)
        else { throw RoundError.notFound }
        let before = try JSONDecoder().decode(RoundResult.self, from: Data(previousText.utf8))
        let changes = ResultsDifference.between(before, result)
        let json = try await ResultsJSON.text(result)
        try await connection.execute(
            "UPDATE result_snapshots SET kind = 'superseded', superseded_at = now() WHERE id = \(previousID)",
            logger: logger
        )
        var snapshot: UUID?
        for try await value in try await connection.query(
            """
            INSERT INTO result_snapshots (round_id, kind, method_version, config_hash, results)
            VALUES (\(round), 'final', \(result.methodVersion), \(result.configurationHash), \(json)::jsonb)
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { snapshot = value }
        let differences = try RoundRepository.json(changes)
        try await connection.execute(
            """
            UPDATE result_corrections SET differences = \(differences)::jsonb, previous_snapshot_id = \(previousID), snapshot_id = \(snapshot)
            WHERE id = \(correction)
            """,
            logger: logger
        )
        // The branches' year and the integrated sheet follow, the sheet with the business
        // results' version it was frozen with.
        var version: Int?
        for try await value in try await connection.query(
            "SELECT performance_version FROM integrated_sheets WHERE round_id = \(round)",
            logger: logger
        ).decode(Int.self) { version = value }
        try await connection.execute("DELETE FROM branch_years WHERE round_id = \(round)", logger: logger)
        try await BranchHistoryRepository.record(roundID: round, connection: connection, logger: logger)
        if let version { _ = try await IntegratedSheets.freeze(roundID: round, version: version, connection: connection, logger: logger) }
        return changes.count
    }

    private static func entry(lost: Double?, earned: Double?, passed: Bool?) -> [String: String] {
        var entry: [String: String] = [:]
        if let lost { entry["lost"] = String(lost) }
        if let earned { entry["earned"] = String(earned) }
        if let passed { entry["passed"] = passed ? "yes" : "no" }
        return entry
    }

    private static func text(_ entry: [String: String]) -> String {
        entry.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
