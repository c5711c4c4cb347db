import Foundation
import KaopingAggregation

/// The results of a round as a table, the same figures as the ranking page: one row per
/// branch, in rank order. CSV and spreadsheet downloads and the command line write it.
public enum ResultsTable {
    static let columns = [
        "col_rank", "col_branch_code", "col_branch", "col_parent", "col_combined", "col_before_bonus", "col_bonus",
        "col_org_score", "col_evaluators", "col_org_status",
        "col_members_score", "col_members_n", "col_members_status", "col_public_score", "col_public_n", "col_public_status",
        "col_public_satisfied", "col_band", "col_grade", "col_veto", "col_failed_baselines", "col_quota", "col_status", "col_method",
        "col_config_hash",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    /// Made as they are read: a province's table would be 25,000 rows of 25 strings at once.
    public static func rows(_ result: RoundResult, language: Language) -> LazyMapSequence<[SubjectResult], [String]> {
        result.subjects.lazy.map { subject in
            func group(_ rater: RoundConfiguration.RaterGroup) -> [String] {
                guard let group = subject[group: rater] else { return ["", "", ""] }
                let status = language.text(group.status == .sufficient ? "value_counted" : "value_below_quorum")
                return [decimal(group.score), String(group.n), status]
            }
            let publicGroup = subject[group: .public]
            return [
                subject.rank.map(String.init) ?? "", subject.code, subject.name, subject.parent ?? "",
                decimal(subject.combined), decimal(subject.combinedBeforeBonus), decimal(subject.bonus),
            ] + group(.organisation) + group(.members) + group(.public) + [
                publicGroup?.satisfactionRate.map { String(format: "%.1f%%", $0 * 100) } ?? "",
                subject.bandGrade ?? "", subject.grade ?? "",
                subject.vetoed ? language.text("value_yes") : "",
                (subject.organisationSheet?.failedBaselines ?? []).joined(separator: ";"),
                subject.droppedByQuota ? language.text("value_yes") : "",
                language.text(subject.status == .complete ? "value_complete" : "value_incomplete"),
                result.methodVersion, result.configurationHash,
            ]
        }
    }

    /// Two decimals, rounded as everywhere else (half away from zero).
    static func decimal(_ value: Double?) -> String {
        value.map { String(format: "%.2f", Statistics.rounded2($0)) } ?? ""
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ result: RoundResult, language: Language) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(header(language))
        for row in rows(result, language: language) { csv += CSVWriter.row(row) }
        return csv
    }
}
