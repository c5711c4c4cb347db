import Foundation
import Logging
import PostgresNIO

/// The organisation's score sheets as CSV, one line per item of each evaluator's sheet. Unlike
/// the members' and the public's answers these are not anonymous: who scored what is part of
/// the record.
public enum SheetsExport {
    static let columns = [
        "col_branch_code", "col_branch", "col_evaluator", "col_status", "col_submitted_at", "col_item", "col_points_lost", "col_bonus_points",
        "col_passed", "col_note", "col_remark",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    public static func csv(roundID: UUID, database: Database, language: Language) async throws -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(header(language))
        for row in try await database.query(
            """
            SELECT b.code, b.name, u.username, s.status, s.submitted_at, e.item_key, e.points_lost, e.points_earned, e.passed,
                   coalesce(e.note, ''), s.remark
            FROM org_sheets s JOIN branches b ON b.id = s.branch_id JOIN users u ON u.id = s.evaluator_id
            LEFT JOIN org_sheet_entries e ON e.sheet_id = s.id
            WHERE s.round_id = \(roundID)
            ORDER BY b.code, u.username, e.item_key
            """
        ) {
            let (code, name, evaluator, status, submitted, item, lost, earned, passed, note, remark) =
                try row.decode((String, String, String, String, Date?, String?, Double?, Double?, Bool?, String, String).self)
            let statusText = language.text(status == "submitted" ? "value_submitted" : "value_draft")
            let passedText = passed.map { language.text($0 ? "value_yes" : "value_no") } ?? ""
            csv += CSVWriter.row([
                code, name, evaluator, statusText, submitted.map(ChinaTime.format) ?? "", item ?? "",
                lost.map(ResultsTable.decimal) ?? "", earned.map(ResultsTable.decimal) ?? "", passedText, note, remark,
            ])
        }
        return csv
    }
}
