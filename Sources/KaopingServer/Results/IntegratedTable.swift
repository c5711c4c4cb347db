import Foundation
import KaopingAggregation
import KaopingForms

/// The integrated sheet as a table, for the page, the CSV and the workbook: the units first
/// (by branch, then code), then the branches (in the order of the round's results).
public enum IntegratedTable {
    static let columns = [
        "col_level", "col_code", "col_name", "col_branch_code", "col_branch", "col_headcount", "col_business_score", "col_business_grade",
        "col_business_band_grade", "col_party_score", "col_party_grade", "col_integrated_score", "col_integrated_grade", "col_integrated_rank",
        "col_awards_barred", "col_failed_baselines", "col_failed_baseline_codes", "col_performance_year", "col_performance_version",
        "col_party_weight",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    /// The failed baseline items by their labels in the round's frozen score sheet (`forms`),
    /// and by their codes in a column of their own. The business grade as the performance office
    /// gave it (units only) and the business score graded by the round's bands each have a column.
    static func rows(_ sheet: IntegratedSheet, forms: [String: FormDefinition], language: Language) -> [[TableCell]] {
        let yes = language.text("value_yes")
        let labels = ItemLabels(forms: forms, language: language)
        func row(_ row: IntegratedSheet.Row, level: String) -> [TableCell] {
            [
                .text(language.text(level)), .text(row.code), .text(row.name), .text(row.branchCode), .text(row.branchName),
                .integer(row.headcount), .decimal(row.businessScore), .text(row.businessGrade), .text(row.businessBandGrade),
                .decimal(row.partyScore), .text(row.partyGrade), .decimal(row.integratedScore), .text(row.integratedGrade), .integer(row.rank),
                .text(row.awardsBarred ? yes : ""), .text(labels.sheetItems(row.failedBaselines)), .text(row.failedBaselines.joined(separator: ";")),
                .integer(sheet.performanceYear), .integer(sheet.performanceVersion), .share(sheet.partyWeight),
            ]
        }
        return sheet.units.map { row($0, level: "level_unit") } + sheet.branches.map { row($0, level: "level_branch") }
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ sheet: IntegratedSheet, forms: [String: FormDefinition], language: Language) -> String {
        CSVWriter.document(header: header(language), rows: rows(sheet, forms: forms, language: language))
    }
}
