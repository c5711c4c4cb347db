import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms

/// Each branch's record over the years and the committee's long-term qualitative assessments
/// (年度定量 + 长期定性, `docs/integration.md`), for administrators.
public struct BranchHistoryController: Sendable {
    let history: BranchHistoryRepository
    let organisation: OrganisationRepository
    let forms: FormRepository
    let results: ResultsService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.history = services.branchHistory
        self.organisation = services.organisation
        self.forms = services.forms
        self.results = services.results
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.branchHistory(SiteURL.code).route, use: page)
        router.post(SiteURL.branchAssessments(SiteURL.code).route, use: add)
        router.post(SiteURL.branchAssessment(SiteURL.code, id: SiteURL.id).route, use: edit)
    }

    static let groups = RoundConfiguration.RaterGroup.allCases.map(\.rawValue)

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await render(request, context: context)
    }

    /// What the form held, read back into a draft.
    static func draft(_ form: FormData) -> BranchHistoryRepository.AssessmentDraft {
        BranchHistoryRepository.AssessmentDraft(
            firstYear: form["first_year"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            lastYear: form["last_year"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            level: form["level"].flatMap(BranchHistoryRepository.Level.init(rawValue:)),
            judgement: form["judgement"] ?? ""
        )
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let draft = Self.draft(try await request.formData(context: context))
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        guard draft.problems.isEmpty else {
            return try await render(request, context: context, draft: draft, status: .unprocessableContent)
        }
        guard try await history.save(draft, id: nil, code: code, actor: context.auditActor, logger: context.logger) else { throw AppError.notFound }
        return .seeOther(.branchHistory(code), ["saved": "1"])
    }

    @Sendable func edit(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let draft = Self.draft(try await request.formData(context: context))
        guard let code = context.parameters.get("code"), let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw AppError.notFound
        }
        guard draft.problems.isEmpty else {
            return try await render(request, context: context, draft: draft, status: .unprocessableContent)
        }
        guard try await history.save(draft, id: id, code: code, actor: context.auditActor, logger: context.logger) else { throw AppError.notFound }
        return .seeOther(.branchHistory(code), ["saved": "1"])
    }

    private func render(
        _ request: Request,
        context: AppRequestContext,
        draft: BranchHistoryRepository.AssessmentDraft? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let code = context.parameters.get("code"), let branch = try await organisation.branch(code: code) else {
            throw AppError.notFound
        }
        let language = context.language
        let soFar = try await results.branchRecord(code: code, logger: context.logger)
        let record = soFar.history
        let closedYears = Array(soFar.closedYears)
        let provisional = soFar.provisional
        let years = record.years
        var memberForm: FormDefinition?
        if let version = record.memberForm { memberForm = try await forms.definition(id: version) }
        let dimensions = memberForm?.dimensions ?? []
        let changes = BranchRecord.changes(years)
        let formChanged = years.indices.map { index in
            index > 0 && years[index].memberForm != nil && years[index - 1].memberForm != nil
                && years[index].memberForm != years[index - 1].memberForm
        }
        let shownYears = years.map(\.year)
        let rows = years.enumerated().map { index, year in
            BranchHistoryPage.YearRow(
                year: year.year,
                roundTitle: year.roundTitle,
                report: SiteURL.branchReport(record.rounds[index], branchCode: code).path,
                combined: Shown.score(year.combined),
                grade: year.grade ?? (year.belowQuorum ? language.text("value_below_quorum") : "–"),
                rank: year.rank.map { rank in
                    language.text("history_rank", ["rank": rank, "ranked": year.ranked, "share": Shown.percent(year.rankShare, decimals: 1)])
                } ?? "–",
                change: changes[index].map { Shown.signedScore($0) } ?? "–",
                groups: Self.groups.map { Shown.score(year.groups[$0]) },
                dimensions: dimensions.map { Shown.score(year.dimensions[$0.key]) },
                business: Shown.score(year.businessScore),
                formChanged: formChanged[index],
                provisional: provisional.contains(index)
            )
        }
        let marks = Set(zip(shownYears, formChanged).filter(\.1).map(\.0))
        let chart =
            years.isEmpty
            ? nil
            : Charts.lines(
                [
                    Charts.Series(name: language.text("history_series_combined"), values: years.map(\.combined)),
                    Charts.Series(name: language.text("history_series_business"), values: years.map(\.businessScore)),
                ],
                years: shownYears,
                marks: marks,
                markLabel: language.text("history_form_changed"),
                title: language.text("history_chart")
            )
        let dimensionChart =
            years.contains(where: { !$0.dimensions.isEmpty }) && !dimensions.isEmpty
            ? Charts.lines(
                dimensions.map { dimension in
                    Charts.Series(name: dimension.label.text(language), values: years.map { $0.dimensions[dimension.key] })
                },
                years: shownYears,
                marks: marks,
                markLabel: language.text("history_form_changed"),
                title: language.text("history_dimension_chart")
            ) : nil
        let trend = BranchRecord.trend(closedYears).map { found in
            language.text("history_trend", ["trend": language.text("trend_\(found.trend.rawValue)"), "slope": Shown.signedScore(found.slope)])
        }
        let grades = try await history.grades(of: record.rounds.prefix(closedYears.count).last)
        let watch = BranchRecord.watch(closedYears, grades: grades).map { language.text("watch_\($0.rawValue)_branch") }
        func levels(_ chosen: BranchHistoryRepository.Level?) -> [BranchHistoryPage.LevelChoice] {
            BranchHistoryRepository.Level.allCases.map {
                .init(value: $0.rawValue, label: language.text("level_\($0.rawValue)"), selected: $0 == chosen)
            }
        }
        let assessments = try await history.assessments(code: code).map { assessment in
            BranchHistoryPage.AssessmentRow(
                period: language.text("history_period", ["first": assessment.firstYear, "last": assessment.lastYear]),
                level: language.text("level_\(assessment.level.rawValue)"),
                judgement: assessment.judgement,
                author: assessment.author,
                written: ChinaTime.format(assessment.createdAt),
                edited: assessment.updatedAt.timeIntervalSince(assessment.createdAt) > 1 ? ChinaTime.format(assessment.updatedAt) : nil,
                action: SiteURL.branchAssessment(code, id: assessment.id.uuidString.lowercased()).path,
                firstYear: assessment.firstYear,
                lastYear: assessment.lastYear,
                levels: levels(assessment.level),
                text: assessment.judgement
            )
        }
        let newest = shownYears.last ?? Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year ?? 2026
        let page = BranchHistoryPage(
            code: code,
            name: branch.name,
            branchLink: SiteURL.branch(code).path,
            watch: watch,
            trend: trend,
            hasYears: !years.isEmpty,
            groupHeaders: Self.groups.map { language.text("group_\($0)") },
            dimensionHeaders: dimensions.map { $0.label.text(language) },
            years: rows,
            chart: chart,
            dimensionChart: dimensionChart,
            formNote: !marks.isEmpty,
            assessments: assessments,
            hasAssessments: !assessments.isEmpty,
            addAction: SiteURL.branchAssessments(code).path,
            newFirstYear: draft?.firstYear.map(String.init) ?? String(newest - 2),
            newLastYear: draft?.lastYear.map(String.init) ?? String(newest),
            newLevels: levels(draft?.level),
            newText: draft?.judgement ?? "",
            problems: draft?.problems.map { language.text($0) } ?? [],
            hasProblems: !(draft?.problems.isEmpty ?? true),
            saved: request.uri.queryParameters["saved"] != nil
        )
        return try views.page("branch_history", page, status: status, context: context)
    }
}
