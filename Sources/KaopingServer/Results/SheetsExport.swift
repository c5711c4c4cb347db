import Foundation
import KaopingForms
import Logging
import PostgresNIO

/// The organisation's score sheets as CSV, one line per item of each evaluator's sheet. Unlike
/// the members' and the public's answers these are not anonymous: who scored what is part of
/// the record.
public enum SheetsExport {
    static let columns = [
        "col_branch_code", "col_branch", "col_evaluator", "col_status", "col_submitted_at", "col_item", "col_item_code", "col_points_lost",
        "col_bonus_points",
        "col_passed", "col_note", "col_remark",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    /// Calls `write` with successive pieces of the CSV, streamed from the database: a province's
    /// sheets are a quarter of a million lines. Each item by its label in the round's frozen
    /// score sheet (`forms`), its code in the next column.
    public static func csv(
        roundID: UUID,
        forms: [String: FormDefinition],
        database: Database,
        language: Language,
        logger: Logger,
        write: (String) async throws -> Void
    ) async throws {
        var csv = CSVPieces(header: header(language))
        let submitted = language.text("value_submitted")
        let draft = language.text("value_draft")
        let yes = language.text("value_yes")
        let no = language.text("value_no")
        let labels = ItemLabels(forms: forms, language: language)
        try await database.withCursor(
            """
            SELECT b.code, b.name, u.username, s.status, s.submitted_at, e.item_key, e.points_lost, e.points_earned, e.passed,
                   coalesce(e.note, ''), s.remark
            FROM org_sheets s JOIN branches b ON b.id = s.branch_id JOIN users u ON u.id = s.evaluator_id
            LEFT JOIN org_sheet_entries e ON e.sheet_id = s.id
            WHERE s.round_id = \(roundID)
            ORDER BY b.code, u.username, e.item_key
            """,
            logger: logger
        ) { rows in
            for try await row in rows {
                var cells = RowCells(row)
                let code = try cells.next(String.self)
                let name = try cells.next(String.self)
                let evaluator = try cells.next(String.self)
                let status = try cells.next(String.self)
                let submittedAt = try cells.next(Date?.self)
                let item = try cells.next(String?.self)
                let lost = try cells.next(Double?.self)
                let earned = try cells.next(Double?.self)
                let passed = try cells.next(Bool?.self)
                let note = try cells.next(String.self)
                let remark = try cells.next(String.self)
                if let piece = csv.append([
                    .text(code), .text(name), .text(evaluator), .text(status == "submitted" ? submitted : draft),
                    .text(submittedAt.map(ChinaTime.format)), .text(item.map { labels.item($0) }), .text(item), .decimal(lost), .decimal(earned),
                    .text(passed.map { $0 ? yes : no }),
                    .text(note), .text(remark),
                ]) {
                    try await write(piece)
                }
            }
        }
        if let piece = csv.rest() { try await write(piece) }
    }
}
