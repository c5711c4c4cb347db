import Foundation
import KaopingAggregation

/// The files of a members' appraisal, for the party committee: each member's category with the
/// tally and the flags, and each branch's counts per category. The admin area's downloads and
/// `kaoping appraisal export` make them here.
public enum AppraisalDownload: String, CaseIterable, Sendable {
    /// Every member: tally, proposal, note, explanation, flags (CSV).
    case members
    /// Every branch: how many members in each category (CSV).
    case summary
    /// Both, as sheets of one workbook.
    case workbook

    public var fileExtension: String { self == .workbook ? "xlsx" : "csv" }

    public var contentType: String {
        self == .workbook ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv; charset=utf-8"
    }

    var nameKey: String {
        switch self {
        case .members: "appraisal_download_members"
        case .summary: "appraisal_download_summary"
        case .workbook: "appraisal_download_workbook"
        }
    }

    /// Its name: the round's title and what it holds, e.g. 2026 年度民主评议党员-党员等次.csv.
    public func fileName(_ round: AppraisalRound, language: Language) -> (display: String, fallback: String) {
        ("\(round.title)-\(language.text(nameKey)).\(fileExtension)", "appraisal-\(rawValue).\(fileExtension)")
    }
}

/// The tables behind `AppraisalDownload`: headers in a language, rows of typed cells.
enum AppraisalTable {
    static func categoryNames(_ settings: AppraisalSettings, _ language: Language) -> [String] {
        settings.categories.map { language == .english ? $0.englishName : $0.name }
    }

    static func memberHeader(_ settings: AppraisalSettings, language: Language) -> [String] {
        [
            "col_branch_code", "col_branch", "appraisal_col_staff", "appraisal_col_name", "appraisal_col_group", "appraisal_col_state",
            "appraisal_col_cast",
        ]
        .map { language.text($0) }
            + categoryNames(settings, language) + [language.text("appraisal_abstain")]
            + groupHeader(settings, language: language)
            + [
                "appraisal_col_suggested", "appraisal_col_proposed", "appraisal_col_note", "appraisal_col_explanation", "appraisal_col_flags",
                "appraisal_col_review",
            ]
            .map { language.text($0) }
    }

    /// Where representatives vote, each group's counts beside the total: 党员·优秀 … 群众代表·不能评价.
    static func groupHeader(_ settings: AppraisalSettings, language: Language) -> [String] {
        guard settings.representativesVote else { return [] }
        return AppraisalVoterGroup.allCases.flatMap { group in
            let prefix = language.text("appraisal_group_\(group.rawValue)")
            return (categoryNames(settings, language) + [language.text("appraisal_abstain")]).map { "\(prefix)·\($0)" }
        }
    }

    /// One row per member appraised. A tally below k keeps its counts out (the cast votes are
    /// still told: how many, never how).
    static func memberRows(_ results: AppraisalService.Results, language: Language) -> [[TableCell]] {
        let settings = results.round.settings
        let count = settings.categories.count
        let names = categoryNames(settings, language)
        var rows: [[TableCell]] = []
        for branch in results.branches {
            let review = language.text("appraisal_review_\(branch.review.rawValue)")
            for member in branch.members {
                let tally = member.tally
                let shown = tally.isShown(threshold: settings.anonymityThreshold)
                let counts: [TableCell] =
                    shown
                    ? tally.combined(categories: count).map { .integer($0) } + [.integer(tally.abstentions.values.reduce(0, +))]
                    : Array(repeating: .empty, count: count + 1)
                // The groups' counts only where every group that voted reached k.
                var groups: [TableCell] = []
                if settings.representativesVote {
                    groups =
                        shown && tally.isSplitShown(threshold: settings.anonymityThreshold)
                        ? AppraisalVoterGroup.allCases.flatMap { group in
                            tally.votes(of: group, categories: count).map { TableCell.integer($0) } + [.integer(tally.abstentions[group] ?? 0)]
                        }
                        : Array(repeating: .empty, count: (count + 1) * AppraisalVoterGroup.allCases.count)
                }
                let suggested: TableCell =
                    shown
                    ? .text(tally.suggested(categories: count).map { names[$0] })
                    : .text(language.text("appraisal_below_threshold"))
                let proposal = member.proposal
                rows.append(
                    [
                        .text(branch.code), .text(branch.name), .text(member.subject.staffNumber), .text(member.subject.name),
                        .text(member.subject.partyGroup),
                        .text(language.text(member.subject.hasLeft ? "appraisal_state_left" : "appraisal_state_in")),
                        .integer(tally.cast),
                    ] + counts + groups + [
                        suggested,
                        .text(proposal.flatMap { settings.categoryName($0.category, language) }),
                        .text(proposal?.note), .text(proposal?.explanation),
                        .text(proposal.map { $0.flags.map { language.text("appraisal_flag_\($0)_stored") }.joined(separator: "；") }),
                        .text(review),
                    ]
                )
            }
        }
        return rows
    }

    static func summaryHeader(_ settings: AppraisalSettings, language: Language) -> [String] {
        ["col_branch_code", "col_branch", "appraisal_col_members"].map { language.text($0) } + categoryNames(settings, language)
            + ["appraisal_col_unproposed", "appraisal_col_review"].map { language.text($0) }
    }

    /// One row per branch: members appraised (still in it), how many in each category, how many
    /// without a proposal yet, and where its proposals stand.
    static func summaryRows(_ results: AppraisalService.Results, language: Language) -> [[TableCell]] {
        let settings = results.round.settings
        return results.branches.map { branch in
            let members = branch.members.filter { !$0.subject.hasLeft }.count
            let counts = branch.counts(settings)
            return [.text(branch.code), .text(branch.name), .integer(members)] + counts.map { .integer($0) } + [
                .integer(members - counts.reduce(0, +)), .text(language.text("appraisal_review_\(branch.review.rawValue)")),
            ]
        }
    }

    static func csv(_ download: AppraisalDownload, _ results: AppraisalService.Results, language: Language) -> String {
        let settings = results.round.settings
        switch download {
        case .summary: return CSVWriter.document(header: summaryHeader(settings, language: language), rows: summaryRows(results, language: language))
        default: return CSVWriter.document(header: memberHeader(settings, language: language), rows: memberRows(results, language: language))
        }
    }

    /// The workbook: the branches' summary, then every member; codes and staff numbers as Text.
    static func workbook(_ results: AppraisalService.Results, language: Language) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kaoping-appraisal-\(UUID().uuidString).xlsx").path
        let book = try Spreadsheet(path: path)
        let settings = results.round.settings
        try book.addSheet(
            language.text("appraisal_sheet_summary"),
            header: summaryHeader(settings, language: language),
            rows: summaryRows(results, language: language),
            textColumns: [0]
        )
        try book.addSheet(
            language.text("appraisal_sheet_members"),
            header: memberHeader(settings, language: language),
            rows: memberRows(results, language: language),
            textColumns: [0, 2]
        )
        try book.close()
        return path
    }
}
