import Foundation
import KaopingForms
import Logging
import PostgresNIO

/// A branch an evaluator scores in a round, with the state of their sheet.
public struct SheetAssignment: Sendable {
    public let roundID: UUID
    public let roundTitle: String
    public let roundOpen: Bool
    public let branchCode: String
    public let branchName: String
    public let status: String?
    public let updatedAt: Date?
}

/// An evaluator assigned to a branch of a round, as the round page lists it.
public struct RoundAssignment: Sendable {
    public let userID: UUID
    public let username: String
    public let displayName: String
    public let active: Bool
    public let branchCode: String
    public let branchName: String
    /// "draft", "submitted", or nil when the evaluator has not opened the sheet.
    public let sheetStatus: String?
}

/// What taking an evaluator off a branch did.
public enum UnassignOutcome: Sendable, Equatable {
    /// Removed, with the sheet's state before ("draft", "submitted" or nil).
    case removed(sheet: String?)
    case notAssigned
    case roundClosed
    /// A submitted sheet would go with it, and the administrator has not said it may.
    case submittedSheet
}

/// One evaluator's sheet as stored: the posted field values, to show again.
public struct StoredSheet: Sendable {
    public let status: String
    public let values: [String: String]
    /// A draft's values as typed, when some of them could not be stored as entries.
    public let draftValues: [String: String]?
    public let evaluator: String
    public let updatedAt: Date
}

/// Organisation score sheets: evaluators assigned to branches fill one sheet each, saving
/// drafts and submitting; several evaluators per branch are averaged by the scoring method.
/// Sheets are not anonymous: who scored what is kept.
public struct SheetRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Assigns an evaluator to branches of a round (all of them when `branchCodes` is empty).
    /// Returns how many assignments are new; an unknown or unsuitable account, or codes that are
    /// not branches of the round, are refused by name and nothing is assigned.
    /// In the caller's transaction, so that the service's audit entry lands with it.
    func assign(roundID: UUID, username: String, branchCodes: [String], on connection: PostgresConnection, logger: Logger) async throws -> Int {
        guard !username.isEmpty else { throw AssignmentProblem.noUser }
        var account: (role: String, active: Bool)?
        for try await row in try await connection.query("SELECT role, active FROM users WHERE lower(username) = lower(\(username))", logger: logger) {
            account = try row.decode((String, Bool).self)
        }
        guard let account else { throw AssignmentProblem.unknownUser(username) }
        guard account.role == "evaluator" else { throw AssignmentProblem.notAnEvaluator(username, role: account.role) }
        guard account.active else { throw AssignmentProblem.inactiveUser(username) }
        let unknown = try await connection.codesNotInRound(branchCodes, roundID: roundID, logger: logger)
        guard unknown.isEmpty else { throw AssignmentProblem.unknownBranches(unknown) }
        var assigned = 0
        for try await _ in try await connection.query(
            """
            INSERT INTO evaluator_assignments (round_id, branch_id, user_id)
            SELECT rb.round_id, rb.branch_id, u.id
            FROM round_branches rb JOIN branches b ON b.id = rb.branch_id, users u
            WHERE rb.round_id = \(roundID) AND lower(u.username) = lower(\(username)) AND u.role = 'evaluator' AND u.active
              AND (cardinality(\(branchCodes)::text[]) = 0 OR b.code = ANY(\(branchCodes)::text[]))
            ON CONFLICT DO NOTHING
            RETURNING 1
            """,
            logger: logger
        ) { assigned += 1 }
        return assigned
    }

    /// The branches an evaluator scores in a round, in code order: for moving to the next sheet.
    public func assignedBranches(roundID: UUID, userID: UUID) async throws -> [(code: String, name: String)] {
        try await database.query(
            """
            SELECT b.code, b.name FROM evaluator_assignments a JOIN branches b ON b.id = a.branch_id
            WHERE a.round_id = \(roundID) AND a.user_id = \(userID)
            ORDER BY b.code
            """
        ).map { try $0.decode((String, String).self) }
    }

    /// Who evaluates which branch in a round, with the state of each one's sheet, by branch.
    public func assignments(roundID: UUID) async throws -> [RoundAssignment] {
        try await database.query(
            """
            SELECT u.id, u.username, u.display_name, u.active, b.code, b.name, s.status
            FROM evaluator_assignments a
            JOIN users u ON u.id = a.user_id JOIN branches b ON b.id = a.branch_id
            LEFT JOIN org_sheets s ON s.round_id = a.round_id AND s.branch_id = a.branch_id AND s.evaluator_id = a.user_id
            WHERE a.round_id = \(roundID)
            ORDER BY b.code, lower(u.username)
            """
        ).map { row in
            let (userID, username, displayName, active, code, name, status) = try row.decode(
                (UUID, String, String, Bool, String, String, String?).self
            )
            return RoundAssignment(
                userID: userID,
                username: username,
                displayName: displayName,
                active: active,
                branchCode: code,
                branchName: name,
                sheetStatus: status
            )
        }
    }

    /// Takes an evaluator off a branch of a round, with their sheet for it: a sheet whose
    /// evaluator is no longer assigned would still count in the results. A submitted sheet goes
    /// only when `discardingSubmitted` says the administrator agreed; a closed round's
    /// assignments stay, since its results are final.
    func unassign(
        roundID: UUID,
        userID: UUID,
        branchCode: String,
        discardingSubmitted: Bool,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UnassignOutcome {
        var state: (status: String, sheet: String?)?
        for try await row in try await connection.query(
            """
            SELECT r.status, s.status
            FROM evaluator_assignments a JOIN rounds r ON r.id = a.round_id JOIN branches b ON b.id = a.branch_id
            LEFT JOIN org_sheets s ON s.round_id = a.round_id AND s.branch_id = a.branch_id AND s.evaluator_id = a.user_id
            WHERE a.round_id = \(roundID) AND a.user_id = \(userID) AND b.code = \(branchCode)
            FOR UPDATE OF a
            """,
            logger: logger
        ) {
            state = try row.decode((String, String?).self)
        }
        guard let state else { return .notAssigned }
        if RoundStatus.withResults.contains(state.status) { return .roundClosed }
        if state.sheet == "submitted" && !discardingSubmitted { return .submittedSheet }
        try await connection.query(
            """
            DELETE FROM org_sheets s USING branches b
            WHERE s.round_id = \(roundID) AND s.evaluator_id = \(userID) AND s.branch_id = b.id AND b.code = \(branchCode)
            """,
            logger: logger
        )
        try await connection.query(
            """
            DELETE FROM evaluator_assignments a USING branches b
            WHERE a.round_id = \(roundID) AND a.user_id = \(userID) AND a.branch_id = b.id AND b.code = \(branchCode)
            """,
            logger: logger
        )
        return .removed(sheet: state.sheet)
    }

    public func assignments(userID: UUID) async throws -> [SheetAssignment] {
        try await database.query(
            """
            SELECT r.id, r.title, r.status = \(RoundStatus.open), b.code, b.name, s.status, s.updated_at
            FROM evaluator_assignments a
            JOIN rounds r ON r.id = a.round_id JOIN branches b ON b.id = a.branch_id
            LEFT JOIN org_sheets s ON s.round_id = a.round_id AND s.branch_id = a.branch_id AND s.evaluator_id = a.user_id
            WHERE a.user_id = \(userID) AND (r.status = \(RoundStatus.open) OR r.status = ANY(\(RoundStatus.withResults)::text[]))
            ORDER BY r.created_at DESC, b.code
            """
        ).map { row in
            let (round, title, open, code, name, status, updated) = try row.decode((UUID, String, Bool, String, String, String?, Date?).self)
            return SheetAssignment(
                roundID: round,
                roundTitle: title,
                roundOpen: open,
                branchCode: code,
                branchName: name,
                status: status,
                updatedAt: updated
            )
        }
    }

    /// The round's frozen organisation form and the branch, if the user is assigned to it.
    public func target(
        roundID: UUID,
        branchCode: String,
        userID: UUID
    ) async throws -> (formVersionID: UUID, branchID: UUID, branchName: String, roundOpen: Bool, roundTitle: String, roundYear: Int)? {
        guard
            let row = try await database.query(
                """
                SELECT g.form_version_id, b.id, b.name, r.status = \(RoundStatus.open) AND (r.closes_at IS NULL OR r.closes_at > now()),
                       r.title, r.year
                FROM evaluator_assignments a
                JOIN rounds r ON r.id = a.round_id JOIN branches b ON b.id = a.branch_id
                JOIN round_groups g ON g.round_id = r.id AND g.rater_group = 'organisation'
                WHERE a.round_id = \(roundID) AND a.user_id = \(userID) AND b.code = \(branchCode) AND g.form_version_id IS NOT NULL
                """
            ).first
        else { return nil }
        return try row.decode((UUID, UUID, String, Bool, String, Int).self)
    }

    public func sheet(roundID: UUID, branchID: UUID, userID: UUID) async throws -> StoredSheet? {
        try await sheets(roundID: roundID, branchID: branchID, userID: userID).first
    }

    /// Every sheet for a branch (all evaluators when `userID` is nil), with the values entered.
    public func sheets(roundID: UUID, branchID: UUID, userID: UUID? = nil) async throws -> [StoredSheet] {
        let rows = try await database.query(
            """
            SELECT s.id, s.status, s.updated_at, u.username, e.item_key, e.points_lost, e.points_earned, e.passed, e.note, s.remark,
                   s.draft_values::text
            FROM org_sheets s JOIN users u ON u.id = s.evaluator_id
            LEFT JOIN org_sheet_entries e ON e.sheet_id = s.id
            WHERE s.round_id = \(roundID) AND s.branch_id = \(branchID) AND (\(userID)::uuid IS NULL OR s.evaluator_id = \(userID))
            ORDER BY u.username, e.item_key
            """
        )
        var order: [UUID] = []
        var sheets: [UUID: (status: String, updated: Date, evaluator: String, values: [String: String], draft: [String: String]?)] = [:]
        for row in rows {
            let (id, status, updated, evaluator, key, lost, earned, passed, note, remark, draft) =
                try row.decode((UUID, String, Date, String, String?, Double?, Double?, Bool?, String?, String, String?).self)
            if sheets[id] == nil {
                order.append(id)
                let typed = draft.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
                sheets[id] = (status, updated, evaluator, remark.isEmpty ? [:] : ["q.remark": remark], typed)
            }
            guard let key else { continue }
            if let value = lost ?? earned { sheets[id]!.values[FormDefinition.answerField(key)] = FormView.format(value) }
            if let passed { sheets[id]!.values[FormDefinition.answerField(key)] = passed ? "pass" : "fail" }
            if let note, !note.isEmpty {
                let isText = lost == nil && earned == nil && passed == nil
                sheets[id]!.values[isText ? FormDefinition.answerField(key) : FormDefinition.noteField(key)] = note
            }
        }
        return order.map { id in
            let sheet = sheets[id]!
            return StoredSheet(
                status: sheet.status,
                values: sheet.values,
                draftValues: sheet.draft,
                evaluator: sheet.evaluator,
                updatedAt: sheet.updated
            )
        }
    }

    /// Saves the evaluator's sheet (as a draft or submitted), replacing what was there.
    /// In the caller's transaction, so that the service's audit entry lands with it.
    func save(
        roundID: UUID,
        branchID: UUID,
        userID: UUID,
        formVersionID: UUID,
        form: FormDefinition,
        answers: [String: Answer],
        submit: Bool,
        draftValues: [String: String]? = nil,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let typed = draftValues.map { String(decoding: (try? JSONEncoder().encode($0)) ?? Data("{}".utf8), as: UTF8.self) }
        var entries: [String] = []
        for item in form.items {
            guard let answer = answers[item.key] else { continue }
            var fields: [(String, String)] = [("item_key", JSONText.string(item.key))]
            switch answer {
            case .points(let value, let note):
                fields.append((item.type == .bonus ? "points_earned" : "points_lost", JSONText.number(value)))
                fields.append(("note", JSONText.string(note)))
            case .baseline(let passed, let note):
                fields.append(("passed", passed ? "true" : "false"))
                fields.append(("note", JSONText.string(note)))
            case .text(let text):
                fields.append(("note", JSONText.string(text)))
            case .option(let key):
                fields.append(("note", JSONText.string(key)))
            }
            entries.append(JSONText.object(fields))
        }
        let json = JSONText.array(entries)
        let status = submit ? "submitted" : "draft"
        var sheetID: UUID?
        for try await id in try await connection.query(
            """
            INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at, draft_values)
            VALUES (\(roundID), \(branchID), \(userID), \(formVersionID), \(status), CASE WHEN \(submit) THEN now() END, \(typed)::jsonb)
            ON CONFLICT (round_id, branch_id, evaluator_id) DO UPDATE SET
              status = CASE WHEN org_sheets.status = 'submitted' THEN 'submitted' ELSE EXCLUDED.status END,
              submitted_at = coalesce(EXCLUDED.submitted_at, org_sheets.submitted_at), updated_at = now(),
              draft_values = EXCLUDED.draft_values
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { sheetID = id }
        guard let sheetID else { return }
        try await connection.execute("DELETE FROM org_sheet_entries WHERE sheet_id = \(sheetID)", logger: logger)
        try await connection.execute(
            """
            INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost, points_earned, passed, note)
            SELECT \(sheetID), e.item_key, e.points_lost, e.points_earned, e.passed, coalesce(e.note, '')
            FROM jsonb_to_recordset(\(json)::jsonb)
              AS e(item_key text, points_lost float8, points_earned float8, passed boolean, note text)
            """,
            logger: logger
        )
    }
}

/// Why an evaluator could not be assigned, said in the administrator's language.
public enum AssignmentProblem: Error, Equatable {
    case noUser
    case unknownUser(String)
    case notAnEvaluator(String, role: String)
    case inactiveUser(String)
    case unknownBranches([String])

    public func message(_ language: Language) -> String {
        switch self {
        case .noUser: language.text("assign_error_no_user")
        case .unknownUser(let name): language.text("assign_error_unknown_user", ["name": name])
        case .notAnEvaluator(let name, let role):
            language.text("assign_error_not_evaluator", ["name": name, "role": language.text("assign_error_role_\(role)")])
        case .inactiveUser(let name): language.text("assign_error_inactive", ["name": name])
        case .unknownBranches(let codes): language.text("assign_error_unknown_branches", ["codes": language.quotedList(codes)])
        }
    }
}
