import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import Logging

/// The committee's pages of a whole round: the ranking, the diagnostics (agreement between
/// raters, straight-lining) and the watch lists. Administrators only; the round comes loaded by
/// `RoundResolverMiddleware`.
public struct RankingController: Sendable {
    let results: ResultsService
    let history: BranchHistoryRepository
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.results = services.results
        self.history = services.branchHistory
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.results(SiteURL.id).route, use: ranking)
        router.get(SiteURL.diagnostics(SiteURL.id).route, use: diagnostics)
        router.get(SiteURL.watchList(SiteURL.id).route, use: watchList)
    }

    static let groups = RoundConfiguration.RaterGroup.allCases
    static let pageSize = 200

    @Sendable func ranking(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let id = round.id
        let organisation = request.uri.queryParameters["org"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let sort = request.uri.queryParameters["sort"].map(String.init) ?? "rank"
        var subjects = current.result.subjects
        let parents = Set(subjects.compactMap(\.parent)).sorted()
        if let organisation { subjects = subjects.filter { $0.parent == organisation } }
        subjects = Self.sorted(subjects, by: sort)
        let pageNumber = max(request.uri.queryParameters["page"].flatMap { Int($0) } ?? 1, 1)
        let pages = max((subjects.count + Self.pageSize - 1) / Self.pageSize, 1)
        let shown = subjects.dropFirst((pageNumber - 1) * Self.pageSize).prefix(Self.pageSize)
        func link(sort: String? = nil, page: Int? = nil) -> String {
            var query: [(String, String)] = []
            if let organisation { query.append(("org", organisation)) }
            query.append(("sort", sort ?? "rank"))
            if let page, page > 1 { query.append(("page", String(page))) }
            return SiteURL.results(id).path(query)
        }
        func cell(_ subject: SubjectResult, _ group: RoundConfiguration.RaterGroup) -> ResultsPage.GroupCell {
            let result = subject.groups[group.rawValue]
            return .init(score: Shown.score(result?.score), n: result?.n ?? 0, insufficient: result?.status == .insufficient)
        }
        let language = context.language
        let rows = shown.map { subject in
            ResultsPage.Row(
                rank: subject.rank.map(String.init) ?? "–",
                code: subject.code,
                name: subject.name,
                parent: subject.parent,
                combined: Shown.score(subject.combined),
                bonus: subject.bonus > 0 ? Shown.score(subject.bonus) : "",
                grade: subject.grade ?? "–",
                band: subject.bandGrade ?? "",
                gradeChanged: subject.grade != subject.bandGrade && subject.grade != nil,
                incomplete: subject.status == .incomplete,
                partial: subject.groupsLeftOut.isEmpty
                    ? nil
                    : language.text(
                        "results_partial_note",
                        ["groups": subject.weightsUsed.map { language.text("group_\($0.group)") }.joined(separator: language.text("group_separator"))]
                    ),
                vetoed: subject.vetoed,
                quota: subject.droppedByQuota,
                failed: (subject.organisationSheet?.failedBaselines ?? []).joined(separator: language.text("group_separator")),
                report: SiteURL.branchReport(id, branchCode: subject.code).path,
                organisation: cell(subject, .organisation),
                members: cell(subject, .members),
                public: cell(subject, .public)
            )
        }
        let groups = round.configuration.groups
        let page = ResultsPage(
            header: ResultsHeader(round: round.summary, current: current),
            rows: Array(rows),
            hasRows: !rows.isEmpty,
            count: subjects.count,
            organisations: parents.map { .init(name: $0, selected: $0 == organisation) },
            hasOrganisations: !parents.isEmpty,
            filterAction: SiteURL.results(id).path,
            sortLinks: .init(
                rank: link(sort: "rank"),
                code: link(sort: "code"),
                organisation: link(sort: RoundConfiguration.RaterGroup.organisation.rawValue),
                members: link(sort: RoundConfiguration.RaterGroup.members.rawValue),
                public: link(sort: RoundConfiguration.RaterGroup.public.rawValue)
            ),
            groupsPresent: .init(organisation: groups[.organisation] != nil, members: groups[.members] != nil, public: groups[.public] != nil),
            pager: Pager(page: pageNumber, pages: pages) { link(sort: sort, page: $0) }
        )
        return try views.page("results", page, context: context)
    }

    @Sendable func diagnostics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let diagnostics = current.result.diagnostics
        let language = context.language
        let alpha = Self.groups.compactMap { group -> DiagnosticsPage.Alpha? in
            guard round.configuration.groups[group] != nil else { return nil }
            return .init(
                label: language.text("group_\(group.rawValue)"),
                value: diagnostics.alpha[group.rawValue].map { String(format: "%.3f", $0) } ?? "–",
                low: diagnostics.lowAgreement.contains(group.rawValue)
            )
        }
        var flagged: [(share: Double, row: DiagnosticsPage.Flagged)] = []
        for subject in current.result.subjects {
            for group in [RoundConfiguration.RaterGroup.members, .public] {
                guard let result = subject.groups[group.rawValue], let share = StraightLining.flaggedShare(of: result) else { continue }
                let row = DiagnosticsPage.Flagged(
                    code: subject.code,
                    name: subject.name,
                    group: language.text("group_\(group.rawValue)"),
                    share: Shown.percent(share, decimals: 0),
                    responses: result.responses,
                    report: SiteURL.branchReport(round.summary.id, branchCode: subject.code).path
                )
                flagged.append((share, row))
            }
        }
        flagged.sort { $0.share > $1.share }
        let page = DiagnosticsPage(
            header: ResultsHeader(round: round.summary, current: current),
            alpha: alpha,
            insufficientCount: current.result.subjects.filter { subject in subject.groups.values.contains { $0.status == .insufficient } }.count,
            incompleteCount: current.result.subjects.filter { $0.status == .incomplete }.count,
            flagged: flagged.prefix(200).map(\.row),
            hasFlagged: !flagged.isEmpty,
            flaggedCount: flagged.count
        )
        return try views.page("diagnostics", page, context: context)
    }

    /// The committee's lists: candidates for rectification and for commendation, by the
    /// closed rounds up to this round's year.
    @Sendable func watchList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let language = context.language
        let names = Dictionary(current.result.subjects.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        let grades = round.configuration.bands.map(\.grade)
        let listed = try await history.watchList(
            upToYear: round.summary.year,
            codes: Set(names.keys),
            grades: grades
        )
        func entries(_ kind: BranchRecord.Watch) -> [WatchListPage.Entry] {
            listed.filter { $0.watch == kind }.map { .init(code: $0.code, name: names[$0.code] ?? "", history: SiteURL.branchHistory($0.code).path) }
        }
        let rectification = entries(.rectification)
        let commendation = entries(.commendation)
        let page = WatchListPage(
            header: ResultsHeader(round: round.summary, current: current),
            rectification: rectification,
            commendation: commendation,
            hasRectification: !rectification.isEmpty,
            hasCommendation: !commendation.isEmpty,
            explanation: language.text(
                "watch_explanation",
                ["year": round.summary.year, "lowest": grades.last ?? "", "top": grades.first ?? ""]
            )
        )
        return try views.page("watch", page, context: context)
    }

    /// `sort` is `code`, a rater group's name (best score first), or anything else for the rank.
    static func sorted(_ subjects: [SubjectResult], by key: String) -> [SubjectResult] {
        if key == "code" { return subjects.sorted { $0.code < $1.code } }
        guard let group = RoundConfiguration.RaterGroup(rawValue: key) else { return subjects }  // already in rank order
        func score(_ subject: SubjectResult) -> Double { subject[group: group]?.score ?? -1 }
        return subjects.sorted { score($0) != score($1) ? score($0) > score($1) : $0.code < $1.code }
    }
}
