import Foundation
import KaopingAggregation
import KaopingForms

/// The results of a round as an Excel workbook: the summary (the same table as the CSV),
/// group scores, dimension scores, the organisation sheets and the comments, each on its own
/// sheet with a frozen header, two-decimal numbers, shares as percentages and columns sized
/// for Chinese text. Breakdowns and comments appear only for groups that reached the anonymity
/// threshold.
public enum ResultsWorkbook {
    public struct Comment: Sendable {
        public let branchCode: String
        public let group: String
        public let item: String
        public let text: String
    }

    /// An evaluator's note on an item of a submitted sheet, or a remark (a text item).
    public struct SheetNote: Sendable {
        public let branchCode: String
        public let item: String
        public let text: String
    }

    public static func write(
        _ result: RoundResult,
        forms: [String: FormDefinition],
        comments: some AsyncSequence<Comment, any Error>,
        sheetNotes: [SheetNote] = [],
        integrated: IntegratedSheet? = nil,
        assessments: [(code: String, assessment: BranchHistoryRepository.Assessment)] = [],
        status: [(String, String)] = [],
        language: Language,
        to path: String
    ) async throws {
        let book = try Spreadsheet(path: path)
        let groupName: (RoundConfiguration.RaterGroup) -> String = { group in language.text("group_\(group.rawValue)") }
        let header: ([String]) -> [String] = { keys in keys.map { language.text($0) } }

        try book.addSheet(
            language.text("sheet_summary"),
            header: ResultsTable.header(language),
            rows: ResultsTable.rows(result, forms: forms, language: language)
        )

        let groupHeader = header([
            "col_branch_code", "col_branch", "col_group", "col_weight", "col_received", "col_n", "col_after_trim", "col_score", "col_sd",
            "col_ci_low", "col_ci_high", "col_status", "col_satisfied", "col_straight_lined",
        ])
        let groupRows = result.subjects.lazy.flatMap { subject in
            RoundConfiguration.RaterGroup.allCases.compactMap { key -> [TableCell]? in
                guard let group = subject[group: key] else { return nil }
                let shown = group.breakdownShown
                return [
                    .text(subject.code), .text(subject.name), .text(groupName(key)), .number(group.weight), .integer(group.responses),
                    .integer(group.n), .integer(group.nTrimmed), .decimal(group.score),
                    shown ? .decimal(group.standardDeviation) : .empty, shown ? .decimal(group.confidenceLow) : .empty,
                    shown ? .decimal(group.confidenceHigh) : .empty,
                    .text(language.text(group.status == .sufficient ? "value_counted" : "value_below_quorum")),
                    shown ? .share(group.satisfactionRate) : .empty, shown ? .share(group.straightLinedShare) : .empty,
                ]
            }
        }
        try book.addSheet(language.text("sheet_group_scores"), header: groupHeader, rows: groupRows)

        let dimensionHeader = header(["col_branch_code", "col_branch", "col_group", "col_dimension", "col_score"])
        let dimensionRows = result.subjects.lazy.flatMap { subject in
            [RoundConfiguration.RaterGroup.members, .public].flatMap { key -> [[TableCell]] in
                guard let group = subject[group: key], group.breakdownShown, let form = forms[key.rawValue] else { return [] }
                return form.dimensions.compactMap { dimension in
                    guard let value = group.dimensions[dimension.key] else { return nil }
                    return [
                        .text(subject.code), .text(subject.name), .text(groupName(key)), .text(dimension.label.text(language)),
                        .decimal(value),
                    ]
                }
            }
        }
        try book.addSheet(language.text("sheet_dimensions"), header: dimensionHeader, rows: dimensionRows)

        let sheetForm = forms[RoundConfiguration.RaterGroup.organisation.rawValue]
        let deductions = sheetForm?.items.filter { $0.type == .deduction } ?? []
        let bonuses = sheetForm?.items.filter { $0.type == .bonus } ?? []
        let sheetHeader =
            header(["col_branch_code", "col_branch", "col_evaluators", "col_base_score", "col_bonus", "col_failed_baselines"])
            + deductions.map { language.text("col_lost_item", ["item": $0.label.text(language)]) }
            + bonuses.map { language.text("col_bonus_item", ["item": $0.label.text(language)]) }
        let sheetRows = result.subjects.lazy.compactMap { subject -> [TableCell]? in
            guard let sheet = subject.organisationSheet else { return nil }
            let failed =
                sheetForm?.items.filter { sheet.failedBaselines.contains($0.key) }.map { $0.label.text(language) } ?? sheet.failedBaselines
            return [
                .text(subject.code), .text(subject.name), .integer(sheet.evaluators), .decimal(sheet.baseScore), .decimal(sheet.bonus),
                .text(failed.joined(separator: language.text("list_separator"))),
            ] + deductions.map { .decimal(sheet.lost[$0.key] ?? 0) } + bonuses.map { .decimal(sheet.earned[$0.key] ?? 0) }
        }
        try book.addSheet(language.text("sheet_org_sheets"), header: sheetHeader, rows: sheetRows)

        let shown = result.groupsWithBreakdown
        let names = Dictionary(uniqueKeysWithValues: result.subjects.map { ($0.code, $0.name) })
        let commentHeader = header(["col_branch_code", "col_branch", "col_group", "col_question", "col_comment"])
        let commentRows = comments.filter { shown.contains("\($0.branchCode)/\($0.group)") }.map { comment -> [TableCell] in
            let question = forms[comment.group]?.item(comment.item)?.label.text(language) ?? comment.item
            return [
                .text(comment.branchCode), .text(names[comment.branchCode] ?? ""),
                .text(groupName(RoundConfiguration.RaterGroup(rawValue: comment.group) ?? .public)), .text(question),
                .text(comment.text),
            ]
        }
        try await book.addSheet(language.text("sheet_comments"), header: commentHeader, rows: commentRows)

        if !sheetNotes.isEmpty {
            try book.addSheet(
                language.text("sheet_org_notes"),
                header: header(["col_branch_code", "col_branch", "col_item", "col_note"]),
                rows: sheetNotes.map { note -> [TableCell] in
                    let item = forms[RoundConfiguration.RaterGroup.organisation.rawValue]?.item(note.item)?.label.text(language) ?? note.item
                    return [.text(note.branchCode), .text(names[note.branchCode] ?? ""), .text(item), .text(note.text)]
                }
            )
        }

        if let integrated {
            try book.addSheet(
                language.text("sheet_integrated"),
                header: IntegratedTable.header(language),
                rows: IntegratedTable.rows(integrated, forms: forms, language: language)
            )
        }
        if !assessments.isEmpty {
            let names = Dictionary(result.subjects.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
            try book.addSheet(
                language.text("sheet_assessments"),
                header: header([
                    "col_branch_code", "col_branch", "history_first_year", "history_last_year", "history_level", "history_judgement", "col_author",
                    "col_written",
                ]),
                rows: assessments.map { entry -> [TableCell] in
                    let assessment = entry.assessment
                    return [
                        .text(entry.code), .text(names[entry.code] ?? ""), .integer(assessment.firstYear), .integer(assessment.lastYear),
                        .text(language.text("level_\(assessment.level.rawValue)")), .text(assessment.judgement), .text(assessment.author),
                        .text(ChinaTime.format(assessment.updatedAt)),
                    ]
                }
            )
        }
        // Published or signed-off results say so in a sheet of their own: stage, reference, hashes.
        if !status.isEmpty {
            try book.addSheet(
                language.text("sheet_status"),
                header: header(["col_item", "col_value"]),
                rows: status.map { [TableCell.text($0.0), .text($0.1)] }
            )
        }
        try book.close()
    }
}
