import Foundation
import KaopingAggregation
import KaopingForms

/// The results of a round as a table, the same figures as the ranking page: one row per
/// branch, in rank order. CSV and spreadsheet downloads and the command line write it.
public enum ResultsTable {
    static let columns = [
        "col_rank", "col_branch_code", "col_branch", "col_parent", "col_combined", "col_before_bonus", "col_bonus",
        "col_org_score", "col_evaluators", "col_org_status",
        "col_members_score", "col_members_n", "col_members_status", "col_public_score", "col_public_n", "col_public_status",
        "col_public_satisfied", "col_band", "col_grade", "col_veto", "col_failed_baselines", "col_failed_baseline_codes", "col_quota", "col_status",
        "col_method",
        "col_config_hash",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    /// Made as they are read: a province's table would be 25,000 rows of 25 cells at once. The
    /// failed baseline items by their labels in the round's frozen score sheet (`forms`), and by
    /// their codes in a column of their own.
    static func rows(
        _ result: RoundResult,
        forms: [String: FormDefinition],
        language: Language
    ) -> LazyMapSequence<[SubjectResult], [TableCell]> {
        let yes = language.text("value_yes")
        let labels = ItemLabels(forms: forms, language: language)
        return result.subjects.lazy.map { subject in
            func group(_ rater: RoundConfiguration.RaterGroup) -> [TableCell] {
                guard let group = subject[group: rater] else { return [.empty, .empty, .empty] }
                let status = language.text(group.status == .sufficient ? "value_counted" : "value_below_quorum")
                return [.decimal(group.score), .integer(group.n), .text(status)]
            }
            return [
                .integer(subject.rank), .text(subject.code), .text(subject.name), .text(subject.parent),
                .decimal(subject.combined), .decimal(subject.combinedBeforeBonus), .decimal(subject.bonus),
            ] + group(.organisation) + group(.members) + group(.public) + [
                .share(subject[group: .public]?.satisfactionRate), .text(subject.bandGrade), .text(subject.grade),
                .text(subject.vetoed ? yes : ""), .text(labels.sheetItems(subject.organisationSheet?.failedBaselines ?? [])),
                .text((subject.organisationSheet?.failedBaselines ?? []).joined(separator: ";")),
                .text(subject.droppedByQuota ? yes : ""),
                .text(language.text(subject.status == .complete ? "value_complete" : "value_incomplete")),
                .text(result.methodVersion), .text(result.configurationHash),
            ]
        }
    }

    /// Two decimals, as the table shows a score; the pages show scores the same way.
    static func decimal(_ value: Double?) -> String {
        TableCell.decimal(value).text
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ result: RoundResult, forms: [String: FormDefinition], language: Language) -> String {
        CSVWriter.document(header: header(language), rows: rows(result, forms: forms, language: language))
    }
}
