// Results: a round's results read from the database into the scoring method (ResultsService,
// ResultsRepository), the integrated sheet, and the tables and workbook they are exported as.

import Foundation
import KaopingAggregation

/// The two-skins diagnostic as a table, one row per branch with both scores, in the order of
/// the round's results: the two scores, both ranks, how far apart they are, whether that is
/// flagged and the quadrant. The page's table and the CSV both write it.
public enum DiagnosticTable {
    static let columns = [
        "col_branch_code", "col_branch", "col_business_score", "col_party_score", "integration_col_business_rank", "integration_col_party_rank",
        "integration_col_rank_distance", "integration_col_flagged", "integration_col_quadrant",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    static func row(_ branch: IntegrationDiagnostic.BranchScores, language: Language) -> [TableCell] {
        [
            .text(branch.code), .text(branch.name), .decimal(branch.business), .decimal(branch.party), .integer(branch.standing.rank.businessRank),
            // How far apart the two ranks are, unsigned: the ranks beside it say which way, and a
            // number that starts with a sign would reach a spreadsheet as text.
            .integer(branch.standing.rank.partyRank), .integer(abs(branch.standing.rank.gap)),
            .text(branch.standing.rank.flagged ? language.text("value_yes") : ""),
            .text(language.text("quadrant_\(branch.standing.quadrant.rawValue)")),
        ]
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ diagnostic: IntegrationDiagnostic, language: Language) -> String {
        CSVWriter.document(header: header(language), rows: diagnostic.branches.lazy.map { row($0, language: language) })
    }
}
