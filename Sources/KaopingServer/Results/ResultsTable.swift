import Foundation
import KaopingAggregation

/// The results of a round as a table, the same figures as the ranking page: one row per
/// branch, in rank order. CSV and spreadsheet downloads and the command line write it.
public enum ResultsTable {
    public static func header(english: Bool) -> [String] {
        english
            ? [
                "Rank", "Branch code", "Branch", "Organisation", "Combined", "Before bonus", "Bonus",
                "Organisation score", "Evaluators", "Organisation status",
                "Members score", "Members n", "Members status", "Public score", "Public n", "Public status", "Public satisfied",
                "Band", "Grade", "Veto", "Failed baseline items", "Lowered by quota", "Status", "Method", "Configuration hash",
            ]
            : [
                "名次", "支部编码", "支部名称", "上级组织", "综合得分", "加分前得分", "加分",
                "组织评价得分", "评审人数", "组织评价状态",
                "党员评价得分", "党员评价有效份数", "党员评价状态", "群众评价得分", "群众评价有效份数", "群众评价状态", "群众满意率",
                "按分数等次", "最终等次", "否决", "未达底线项目", "比例降等", "状态", "计分方法", "配置校验码",
            ]
    }

    public static func rows(_ result: RoundResult, english: Bool) -> [[String]] {
        result.subjects.map { subject in
            func group(_ name: String) -> [String] {
                guard let group = subject.groups[name] else { return ["", "", ""] }
                let status = group.status == .sufficient ? (english ? "counted" : "计入") : (english ? "below quorum" : "份数不足")
                return [decimal(group.score), String(group.n), status]
            }
            let publicGroup = subject.groups["public"]
            return [
                subject.rank.map(String.init) ?? "", subject.code, subject.name, subject.parent ?? "",
                decimal(subject.combined), decimal(subject.combinedBeforeBonus), decimal(subject.bonus),
            ] + group("organisation") + group("members") + group("public") + [
                publicGroup?.satisfactionRate.map { String(format: "%.1f%%", $0 * 100) } ?? "",
                subject.bandGrade ?? "", subject.grade ?? "",
                subject.vetoed ? (english ? "yes" : "是") : "",
                (subject.organisationSheet?.failedBaselines ?? []).joined(separator: ";"),
                subject.droppedByQuota ? (english ? "yes" : "是") : "",
                subject.status == .complete ? (english ? "complete" : "完整") : (english ? "incomplete" : "不完整"),
                result.methodVersion, result.configurationHash,
            ]
        }
    }

    /// Two decimals, rounded as everywhere else (half away from zero).
    static func decimal(_ value: Double?) -> String {
        value.map { String(format: "%.2f", Statistics.rounded2($0)) } ?? ""
    }

    /// The whole table as CSV: UTF-8 with a byte-order mark, CRLF, cells neutralised.
    public static func csv(_ result: RoundResult, english: Bool) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(header(english: english))
        for row in rows(result, english: english) { csv += CSVWriter.row(row) }
        return csv
    }
}
