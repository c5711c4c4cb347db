import Foundation
import Logging
import PostgresNIO

/// The organisation's score sheets as CSV, one line per item of each evaluator's sheet. Unlike
/// the members' and the public's answers these are not anonymous: who scored what is part of
/// the record.
public enum SheetsExport {
    public static func header(english: Bool) -> [String] {
        english
            ? [
                "Branch code", "Branch", "Evaluator", "Status", "Submitted (Beijing time)", "Item", "Points lost", "Bonus points", "Passed", "Note",
                "Remark",
            ]
            : ["支部编码", "支部名称", "评审人", "状态", "提交时间（北京时间）", "项目", "扣分", "加分", "底线是否达标", "说明", "总体评语"]
    }

    public static func csv(roundID: UUID, database: Database, english: Bool) async throws -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(header(english: english))
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
            let statusText = status == "submitted" ? (english ? "submitted" : "已提交") : (english ? "draft" : "草稿")
            let passedText = passed.map { $0 ? (english ? "yes" : "是") : (english ? "no" : "否") } ?? ""
            csv += CSVWriter.row([
                code, name, evaluator, statusText, submitted.map(ChinaTime.format) ?? "", item ?? "",
                lost.map(ResultsTable.decimal) ?? "", earned.map(ResultsTable.decimal) ?? "", passedText, note, remark,
            ])
        }
        return csv
    }
}
