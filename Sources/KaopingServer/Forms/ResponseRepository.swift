import Foundation
import KaopingForms
import Logging
import PostgresNIO

/// Who is answering about what: a round, a rater group and a branch.
public struct RespondentTarget: Sendable, Equatable {
    public enum RaterGroup: String, Sendable, CaseIterable {
        case organisation, members, `public`
    }

    public let roundID: UUID
    public let roundTitle: String
    public let roundOpen: Bool
    public let group: RaterGroup
    public let branchID: UUID
    public let branchName: String
    public let formVersionID: UUID
}

/// One validated submission, ready to be stored.
public struct SubmissionRecord: Sendable {
    public let target: RespondentTarget
    /// The key the rendered form carried; a second post with it stores nothing.
    public let submissionKey: String
    public let answers: [String: Answer]
    public let score: ResponseScore
    public let form: FormDefinition
}

public enum StoreOutcome: Sendable, Equatable {
    case stored
    /// The submission key was used before: a retry or a double click.
    case alreadyStored
}

public protocol ResponseRepository: Sendable {
    func target(roundID: UUID, group: RespondentTarget.RaterGroup, branchID: UUID) async throws -> RespondentTarget?
    func store(_ record: SubmissionRecord, logger: Logger) async throws -> StoreOutcome
}

public struct PostgresResponseRepository: ResponseRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func target(roundID: UUID, group: RespondentTarget.RaterGroup, branchID: UUID) async throws -> RespondentTarget? {
        let rows = try await database.query(
            """
            SELECT r.title, r.status = 'open' AND (r.closes_at IS NULL OR r.closes_at > now()), g.form_version_id, b.name
            FROM rounds r
            JOIN round_groups g ON g.round_id = r.id AND g.rater_group = \(group.rawValue)
            JOIN round_branches rb ON rb.round_id = r.id AND rb.branch_id = \(branchID)
            JOIN branches b ON b.id = rb.branch_id
            WHERE r.id = \(roundID) AND g.form_version_id IS NOT NULL
            """
        )
        guard let row = rows.first else { return nil }
        let (title, open, formVersionID, branchName) = try row.decode((String, Bool, UUID, String).self)
        return RespondentTarget(
            roundID: roundID, roundTitle: title, roundOpen: open, group: group, branchID: branchID,
            branchName: branchName, formVersionID: formVersionID
        )
    }

    /// Writes the response, its answers and its scores in one transaction, or nothing.
    public func store(_ record: SubmissionRecord, logger: Logger) async throws -> StoreOutcome {
        let answers = try Self.answerRows(record)
        let dimensions = String(decoding: try JSONEncoder().encode(record.score.dimensionScores), as: UTF8.self)
        let target = record.target
        return try await database.transaction(logger: logger) { connection in
            // The key is claimed first: a concurrent duplicate waits here for our commit, then finds it.
            let claimed = try await connection.query(
                """
                INSERT INTO submission_keys (key_hash, round_id, used_on)
                VALUES (sha256(convert_to(\(record.submissionKey), 'UTF8')), \(target.roundID), (now() AT TIME ZONE 'Asia/Shanghai')::date)
                ON CONFLICT (key_hash) DO NOTHING
                RETURNING 1
                """,
                logger: logger
            )
            var fresh = false
            for try await _ in claimed { fresh = true }
            guard fresh else { return .alreadyStored }
            let inserted = try await connection.query(
                """
                WITH response AS (
                  INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined)
                  VALUES (\(target.roundID), \(target.branchID), \(target.group.rawValue), \(target.formVersionID),
                          (now() AT TIME ZONE 'Asia/Shanghai')::date, \(record.score.score), \(dimensions)::jsonb, \(record.score.straightLined))
                  RETURNING id
                )
                INSERT INTO answers (response_id, item_key, option_key, number_value, text_value, points)
                SELECT response.id, a.item_key, a.option_key, a.number_value, a.text_value, a.points
                FROM response, jsonb_to_recordset(\(answers)::jsonb)
                  AS a(item_key text, option_key text, number_value float8, text_value text, points float8)
                """,
                logger: logger
            )
            for try await _ in inserted {}
            return .stored
        }
    }

    private struct AnswerRow: Encodable {
        let item_key: String
        let option_key: String?
        let number_value: Double?
        let text_value: String?
        let points: Double?
    }

    static func answerRows(_ record: SubmissionRecord) throws -> String {
        let rows = record.form.items.compactMap { item -> AnswerRow? in
            guard let answer = record.answers[item.key] else { return nil }
            switch answer {
            case .option(let key):
                return AnswerRow(item_key: item.key, option_key: key, number_value: nil, text_value: nil, points: record.score.itemPoints[item.key])
            case .text(let text):
                return AnswerRow(item_key: item.key, option_key: nil, number_value: nil, text_value: text, points: nil)
            case .points(let value, let note):
                return AnswerRow(item_key: item.key, option_key: nil, number_value: value, text_value: note.isEmpty ? nil : note, points: nil)
            case .baseline(let passed, let note):
                return AnswerRow(item_key: item.key, option_key: passed ? "pass" : "fail", number_value: nil, text_value: note.isEmpty ? nil : note, points: nil)
            }
        }
        return String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
    }
}
