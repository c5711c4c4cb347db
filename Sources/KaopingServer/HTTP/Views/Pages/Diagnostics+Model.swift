import Foundation
import KaopingAggregation

/// Checks on the round's data: agreement between raters, groups below quorum, and answer sets
/// that look mechanical (the same option everywhere).
struct DiagnosticsPage: PageModel {
    struct Alpha {
        let label: String
        let value: String
        let low: Bool
    }

    struct Flagged {
        let code: String
        let name: String
        let group: String
        let share: String
        let responses: Int
        let report: String
    }

    let header: ResultsHeader
    let alpha: [Alpha]
    let insufficientCount: Int
    let incompleteCount: Int
    let flagged: [Flagged]
    let hasFlagged: Bool
    let flaggedCount: Int
}

extension DiagnosticsPage {
    /// The checks on a round's results, in `language`; the straight-lined groups listed up to
    /// `listedAtMost`, largest share first.
    static func make(
        _ result: RoundResult,
        configuration: RoundConfiguration,
        roundID: UUID,
        header: ResultsHeader,
        listedAtMost: Int,
        language: Language
    ) -> DiagnosticsPage {
        let diagnostics = result.diagnostics
        let alpha = RoundConfiguration.RaterGroup.allCases.compactMap { group -> Alpha? in
            guard configuration.groups[group] != nil else { return nil }
            return .init(
                label: language.text("group_\(group.rawValue)"),
                value: diagnostics.alpha[group.rawValue].map { String(format: "%.3f", $0) } ?? "–",
                low: diagnostics.lowAgreement.contains(group.rawValue)
            )
        }
        var flagged: [(share: Double, row: Flagged)] = []
        for subject in result.subjects {
            // The organisation's sheets are not answer sets: only the surveys can be straight-lined.
            for group in [RoundConfiguration.RaterGroup.members, .public] {
                guard let groupResult = subject[group: group], let share = StraightLining.flaggedShare(of: groupResult) else { continue }
                let row = Flagged(
                    code: subject.code,
                    name: subject.name,
                    group: language.text("group_\(group.rawValue)"),
                    share: FigureText.percent(share, decimals: 0),
                    responses: groupResult.responses,
                    report: SiteURL.branchReport(roundID, branchCode: subject.code).path
                )
                flagged.append((share, row))
            }
        }
        flagged.sort { $0.share > $1.share }
        return DiagnosticsPage(
            header: header,
            alpha: alpha,
            insufficientCount: result.subjects.filter { subject in subject.groups.values.contains { $0.status == .insufficient } }.count,
            incompleteCount: result.subjects.filter { $0.status == .incomplete }.count,
            flagged: flagged.prefix(listedAtMost).map(\.row),
            hasFlagged: !flagged.isEmpty,
            flaggedCount: flagged.count
        )
    }
}
