import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import Logging

/// A branch's report (printable, with a one- or two-page summary for the meeting): for
/// administrators, and for the branch's own secretary (`BranchAccessMiddleware`).
public struct BranchReportController: Sendable {
    let results: ResultsService
    let repository: ResultsRepository
    let history: BranchHistoryRepository
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.results = services.results
        self.repository = services.resultsRepository
        self.history = services.branchHistory
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.branchReport(SiteURL.id, branchCode: SiteURL.code).route, use: report)
    }

    static let groups = RoundConfiguration.RaterGroup.allCases

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        let (round, current) = try await results.requested(context)
        let id = round.id
        guard let subject = current.result.subjects.first(where: { $0.code == code }) else { throw AppError.notFound }
        let language = context.language
        let forms = try await repository.groupForms(roundID: id)
        let details = try await repository.details(roundID: id, branchCode: code)
        let groups = Self.groups.compactMap { group -> BranchReportPage.Group? in
            guard let result = subject.groups[group.rawValue] else { return nil }
            let form = group == .organisation || !result.breakdownShown ? nil : forms[group.rawValue]
            let counts = details.counts[group.rawValue] ?? [:]
            let comments = details.comments[group.rawValue] ?? [:]
            let dimensions = (form?.dimensions ?? []).map { dimension in
                Charts.Bar(label: dimension.label.text(language), value: result.dimensions[dimension.key])
            }
            return BranchReportPage.Group(
                label: language.text("group_\(group.rawValue)"),
                weight: Shown.number(result.weight),
                responses: result.responses,
                n: result.n,
                nTrimmed: result.nTrimmed,
                score: Shown.score(result.score),
                sd: Shown.score(result.standardDeviation),
                ci: result.confidenceLow.map { "\(Shown.score($0))–\(Shown.score(result.confidenceHigh))" } ?? "–",
                insufficient: result.status == .insufficient,
                satisfaction: Shown.percent(result.satisfactionRate),
                survey: group != .organisation,
                shown: result.breakdownShown,
                chart: dimensions.isEmpty ? nil : Charts.bars(dimensions, title: language.text("results_dimensions")),
                items: (form?.items ?? []).filter(\.isScored).map { item in
                    let itemCounts = counts[item.key] ?? [:]
                    let total = itemCounts.values.reduce(0, +)
                    return BranchReportPage.Item(
                        label: item.label.text(language),
                        options: item.options.map { option in
                            let count = itemCounts[option.key] ?? 0
                            let percent = total > 0 ? Int((Double(count) * 100 / Double(total)).rounded(.toNearestOrAwayFromZero)) : 0
                            return .init(label: option.label.text(language), count: count, share: total > 0 ? "\(percent)%" : "–", width: percent)
                        }
                    )
                },
                comments: (form?.items ?? []).filter { $0.type == .longText || $0.type == .text }.compactMap { item in
                    guard let texts = comments[item.key], !texts.isEmpty else { return nil }
                    return .init(label: item.label.text(language), texts: texts)
                }
            )
        }
        let diagnostic = try await results.diagnostic(round, current)
        let integration = diagnostic.diagnostic?.pairs.first(where: { $0.code == code }).map { pair in
            language.text(
                "report_integration",
                [
                    "year": diagnostic.year, "business": Shown.score(pair.business),
                    "quadrant": language.text("quadrant_\(pair.standing.quadrant.rawValue)"), "party_rank": pair.standing.rank.partyRank,
                    "business_rank": pair.standing.rank.businessRank, "gap": Shown.signed(pair.standing.rank.gap),
                ]
            )
        }
        // The trend of the years before this round and this round's score.
        let earlier = try await history.years(code: code).years.filter { $0.year < round.summary.year }
        let thisYear = BranchRecord.Year(
            year: round.summary.year,
            roundTitle: round.summary.title,
            combined: subject.combined,
            grade: subject.grade,
            rank: subject.rank,
            ranked: 0,
            belowQuorum: subject.status == .incomplete,
            groups: [:],
            dimensions: [:],
            businessScore: nil,
            memberForm: nil
        )
        let trend = BranchRecord.trend(earlier + [thisYear]).map { found in
            language.text("history_trend", ["trend": language.text("trend_\(found.trend.rawValue)"), "slope": Shown.signedScore(found.slope)])
        }
        let notes = try await repository.sheetNotes(roundID: round.summary.id, branchCode: subject.code).map { note in
            BranchReportPage.Note(
                item: forms[RoundConfiguration.RaterGroup.organisation.rawValue]?.item(note.item)?.label.text(english: language == .english)
                    ?? note.item,
                text: note.text
            )
        }
        let page = BranchReportPage(
            header: ResultsHeader(round: round.summary, current: current),
            code: subject.code,
            name: subject.name,
            parent: subject.parent,
            rank: subject.rank.map(String.init) ?? "–",
            combined: Shown.score(subject.combined),
            combinedBeforeBonus: Shown.score(subject.combinedBeforeBonus),
            bonus: Shown.score(subject.bonus),
            grade: subject.grade ?? "–",
            band: subject.bandGrade ?? "–",
            vetoed: subject.vetoed,
            quota: subject.droppedByQuota,
            incomplete: subject.status == .incomplete,
            weights: Self.weightsExplained(subject, language: language),
            threshold: round.configuration.anonymityThreshold,
            isAdmin: context.user?.role == .admin,
            groups: groups,
            sheet: subject.organisationSheet.flatMap { sheet in
                forms[RoundConfiguration.RaterGroup.organisation.rawValue].map { SheetSummary(sheet, form: $0, language: language) }
            },
            notes: notes,
            hasNotes: !notes.isEmpty,
            summaryOnly: request.uri.queryParameters["view"] == "summary",
            summaryLink: SiteURL.branchReport(id, branchCode: code).path(["view": "summary"]),
            fullLink: SiteURL.branchReport(id, branchCode: code).path,
            integration: integration,
            trend: trend,
            history: context.user?.role == .admin ? SiteURL.branchHistory(code).path : nil
        )
        return try views.page("result_branch", page, context: context)
    }

    /// The weights the combined score used and the sum that gives it, to check by hand:
    /// "62.5% × 90.00 + 37.5% × 80.00 = 86.25; + bonus 1.00 = 87.25".
    static func weightsExplained(_ subject: SubjectResult, language: Language) -> BranchReportPage.Weights? {
        let used = subject.weightsUsed
        guard !used.isEmpty, let before = subject.combinedBeforeBonus else { return nil }
        let percent = { (share: Double) in String(format: "%.1f%%", share * 100).replacingOccurrences(of: ".0%", with: "%") }
        let terms = used.map { "\(percent($0.share)) × \(Shown.score($0.score))" }.joined(separator: " + ")
        var sum = "\(terms) = \(Shown.score(before))"
        if subject.bonus > 0, let combined = subject.combined {
            sum += language.text("results_sum_bonus", ["bonus": Shown.score(subject.bonus), "combined": Shown.score(combined)])
        }
        let left = subject.groupsLeftOut.map { language.text("group_\($0)") }
        return BranchReportPage.Weights(
            shares: used.map { language.text("results_weight_share", ["group": language.text("group_\($0.group)"), "share": percent($0.share)]) }
                .joined(separator: language.text("group_separator")),
            sum: sum,
            leftOut: left.isEmpty ? nil : language.text("results_left_out", ["groups": left.joined(separator: language.text("group_separator"))])
        )
    }
}
