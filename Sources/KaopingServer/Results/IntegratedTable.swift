import Foundation
import KaopingAggregation

/// The integrated sheet as a table, for the page, the CSV and the workbook: the units first
/// (by branch, then code), then the branches (in the order of the round's results).
public enum IntegratedTable {
    static let columns = [
        "col_level", "col_code", "col_name", "col_branch_code", "col_branch", "col_headcount", "col_business_score", "col_business_grade",
        "col_party_score", "col_party_grade", "col_integrated_score", "col_integrated_grade", "col_integrated_rank", "col_awards_barred",
        "col_failed_baselines", "col_performance_year", "col_performance_version", "col_party_weight",
    ]
    /// Positions of whole numbers and of decimals, for the workbook.
    static let integers: Set<Int> = [5, 12, 15, 16]
    static let decimals: Set<Int> = [6, 8, 10, 17]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    public static func rows(_ sheet: IntegratedSheet, language: Language) -> [[String]] {
        func row(_ row: IntegratedSheet.Row, level: String) -> [String] {
            [
                language.text(level), row.code, row.name, row.branchCode, row.branchName, row.headcount.map(String.init) ?? "",
                ResultsTable.decimal(row.businessScore), row.businessGrade ?? "", ResultsTable.decimal(row.partyScore), row.partyGrade ?? "",
                ResultsTable.decimal(row.integratedScore), row.integratedGrade ?? "", row.rank.map(String.init) ?? "",
                row.awardsBarred ? language.text("value_yes") : "", row.failedBaselines.joined(separator: ";"), String(sheet.performanceYear),
                sheet.performanceVersion.map(String.init) ?? "", Shown.number(sheet.partyWeight),
            ]
        }
        return sheet.units.map { row($0, level: "level_unit") } + sheet.branches.map { row($0, level: "level_branch") }
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ sheet: IntegratedSheet, language: Language) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(header(language))
        for row in rows(sheet, language: language) { csv += CSVWriter.row(row) }
        return csv
    }
}
