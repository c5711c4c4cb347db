import Foundation
import KaopingAggregation
import KaopingForms

/// The results of a round as an Excel workbook: the summary (the same table as the CSV),
/// group scores, dimension scores, the organisation sheets and the comments, each on its own
/// sheet with a frozen header, two-decimal numbers and columns sized for Chinese text.
/// Breakdowns and comments appear only for groups that reached the anonymity threshold.
public enum ResultsWorkbook {
    public struct Comment: Sendable {
        public let branchCode: String
        public let group: String
        public let item: String
        public let text: String
    }

    /// Column kinds of the summary table, by position in `ResultsTable.header`.
    static let summaryIntegers: Set<Int> = [0, 8, 11, 14]
    static let summaryDecimals: Set<Int> = [4, 5, 6, 7, 10, 13]

    public static func write(
        _ result: RoundResult,
        forms: [String: FormDefinition],
        comments: [Comment],
        english: Bool,
        to path: String
    ) throws {
        let book = try Spreadsheet(path: path)
        let groupName: (String) -> String = { key in
            switch key {
            case "organisation": english ? "Organisation" : "组织评价"
            case "members": english ? "Members" : "党员评价"
            default: english ? "Public" : "群众评价"
            }
        }

        try book.addSheet(
            english ? "Summary" : "汇总",
            header: ResultsTable.header(english: english),
            rows: ResultsTable.rows(result, english: english).lazy.map { row in
                row.enumerated().map { column, text -> Spreadsheet.Cell in
                    if summaryIntegers.contains(column), let value = Int(text) { return .integer(value) }
                    if summaryDecimals.contains(column), let value = Double(text) { return .number(value) }
                    return .text(text)
                }
            }
        )

        let groupHeader =
            english
            ? [
                "Branch code", "Branch", "Group", "Weight", "Received", "n", "After trimming", "Score", "SD", "CI low", "CI high", "Status",
                "Satisfied", "Straight-lined",
            ]
            : ["支部编码", "支部名称", "评价主体", "权重", "收到份数", "有效份数", "去极值后份数", "得分", "标准差", "置信区间下限", "置信区间上限", "状态", "满意率", "一律同答占比"]
        let groupRows = result.subjects.lazy.flatMap { subject in
            ["organisation", "members", "public"].compactMap { key -> [Spreadsheet.Cell]? in
                guard let group = subject.groups[key] else { return nil }
                let shown = group.breakdownShown
                return [
                    .text(subject.code), .text(subject.name), .text(groupName(key)), .number(group.weight), .integer(group.responses),
                    .integer(group.n), .integer(group.nTrimmed), decimal(group.score),
                    shown ? decimal(group.standardDeviation) : .empty, shown ? decimal(group.confidenceLow) : .empty,
                    shown ? decimal(group.confidenceHigh) : .empty,
                    .text(group.status == .sufficient ? (english ? "counted" : "计入") : (english ? "below quorum" : "份数不足")),
                    shown ? percent(group.satisfactionRate) : .empty, shown ? percent(group.straightLinedShare) : .empty,
                ]
            }
        }
        try book.addSheet(english ? "Group scores" : "各主体得分", header: groupHeader, rows: groupRows)

        let dimensionHeader = english ? ["Branch code", "Branch", "Group", "Dimension", "Score"] : ["支部编码", "支部名称", "评价主体", "维度", "得分"]
        let dimensionRows = result.subjects.lazy.flatMap { subject in
            ["members", "public"].flatMap { key -> [[Spreadsheet.Cell]] in
                guard let group = subject.groups[key], group.breakdownShown, let form = forms[key] else { return [] }
                return form.dimensions.compactMap { dimension in
                    guard let value = group.dimensions[dimension.key] else { return nil }
                    return [
                        .text(subject.code), .text(subject.name), .text(groupName(key)), .text(dimension.label.text(english: english)),
                        .number(value),
                    ]
                }
            }
        }
        try book.addSheet(english ? "Dimensions" : "维度得分", header: dimensionHeader, rows: dimensionRows)

        let sheetForm = forms["organisation"]
        let deductions = sheetForm?.items.filter { $0.type == .deduction } ?? []
        let bonuses = sheetForm?.items.filter { $0.type == .bonus } ?? []
        let sheetHeader =
            (english
                ? ["Branch code", "Branch", "Evaluators", "Base score", "Bonus", "Failed baseline items"]
                : ["支部编码", "支部名称", "评审人数", "基础分", "加分", "未达底线项目"])
            + deductions.map { (english ? "Lost: " : "扣分：") + $0.label.text(english: english) }
            + bonuses.map { (english ? "Bonus: " : "加分：") + $0.label.text(english: english) }
        let sheetRows = result.subjects.lazy.compactMap { subject -> [Spreadsheet.Cell]? in
            guard let sheet = subject.organisationSheet else { return nil }
            let failed =
                sheetForm?.items.filter { sheet.failedBaselines.contains($0.key) }.map { $0.label.text(english: english) } ?? sheet.failedBaselines
            return [
                .text(subject.code), .text(subject.name), .integer(sheet.evaluators), .number(sheet.baseScore), .number(sheet.bonus),
                .text(failed.joined(separator: english ? "; " : "；")),
            ] + deductions.map { .number(sheet.lost[$0.key] ?? 0) } + bonuses.map { .number(sheet.earned[$0.key] ?? 0) }
        }
        try book.addSheet(english ? "Organisation sheets" : "组织评价表", header: sheetHeader, rows: sheetRows)

        let shown = Set(
            result.subjects.flatMap { subject in
                subject.groups.filter { $0.value.breakdownShown }.map { "\(subject.code)/\($0.key)" }
            }
        )
        let names = Dictionary(uniqueKeysWithValues: result.subjects.map { ($0.code, $0.name) })
        let commentHeader = english ? ["Branch code", "Branch", "Group", "Question", "Comment"] : ["支部编码", "支部名称", "评价主体", "题目", "意见"]
        let commentRows = comments.lazy.filter { shown.contains("\($0.branchCode)/\($0.group)") }.map { comment -> [Spreadsheet.Cell] in
            let question = forms[comment.group]?.item(comment.item)?.label.text(english: english) ?? comment.item
            return [
                .text(comment.branchCode), .text(names[comment.branchCode] ?? ""), .text(groupName(comment.group)), .text(question),
                .text(comment.text),
            ]
        }
        try book.addSheet(english ? "Comments" : "意见", header: commentHeader, rows: commentRows)
        try book.close()
    }

    static func decimal(_ value: Double?) -> Spreadsheet.Cell {
        value.map { .number(Statistics.rounded2($0)) } ?? .empty
    }

    static func percent(_ value: Double?) -> Spreadsheet.Cell {
        value.map { .text(String(format: "%.1f%%", $0 * 100)) } ?? .empty
    }
}
