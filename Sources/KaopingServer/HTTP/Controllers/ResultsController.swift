import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import Logging

/// The committee's pages: the ranking of a round, each branch's report (printable), and the
/// diagnostics. Branch secretaries (viewers) see their own branch's report and nothing else.
public struct ResultsController: Sendable {
    let results: ResultsRepository
    let performance: PerformanceRepository
    let integrated: IntegratedSheets
    let rounds: RoundRepository
    let views: Views

    public init(results: ResultsRepository, rounds: RoundRepository, views: Views) {
        self.results = results
        self.performance = PerformanceRepository(database: results.database)
        self.integrated = IntegratedSheets(database: results.database, results: results)
        self.rounds = rounds
        self.views = views
    }

    /// Routes for administrators only.
    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.results(SiteURL.id).route, use: ranking)
        router.get(SiteURL.diagnostics(SiteURL.id).route, use: diagnostics)
        router.get(SiteURL.integration(SiteURL.id).route, use: integration)
        router.get(SiteURL.integratedSheet(SiteURL.id).route, use: integratedSheet)
        router.post(SiteURL.integratedSheet(SiteURL.id).route, use: adoptPerformanceVersion)
        router.get(SiteURL.integratedCSV(SiteURL.id).route, use: integratedCSV)
        router.get(SiteURL.watchList(SiteURL.id).route, use: watchList)
        router.get(SiteURL.resultsCSV(SiteURL.id).route, use: resultsCSV)
        router.get(SiteURL.resultsXLSX(SiteURL.id).route, use: resultsXLSX)
        router.get(SiteURL.responsesCSV(SiteURL.id).route, use: responsesCSV)
        router.get(SiteURL.sheetsCSV(SiteURL.id).route, use: sheetsCSV)
    }

    /// Routes for administrators and for viewers of one branch.
    public func addReportRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.branchReport(SiteURL.id, branchCode: SiteURL.code).route, use: report)
    }

    static let groups = RoundConfiguration.RaterGroup.allCases
    static let pageSize = 200
    /// Lists within a page stop here; the downloads have everything.
    static let listedAtMost = 200

    @Sendable func ranking(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
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
                organisation: link(sort: "organisation"),
                members: link(sort: "members"),
                public: link(sort: "public")
            ),
            groupsPresent: .init(organisation: groups[.organisation] != nil, members: groups[.members] != nil, public: groups[.public] != nil),
            pager: Pager(page: pageNumber, pages: pages) { link(sort: sort, page: $0) }
        )
        return try views.page("results", page, context: context)
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        if context.user?.role == .viewer {
            // A branch secretary reads their own branch's report only.
            guard let branch = context.user?.branchID, try await results.branchCode(id: branch) == code else { throw AppError.forbidden }
        } else if context.user?.role != .admin {
            throw AppError.forbidden
        }
        let (id, round, current) = try await load(context)
        guard let subject = current.result.subjects.first(where: { $0.code == code }) else { throw AppError.notFound }
        let language = context.language
        let forms = try await results.groupForms(roundID: id)
        let details = try await results.details(roundID: id, branchCode: code)
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
        let year = IntegratedSheets.performanceYear(round.configuration, roundYear: round.summary.year)
        let business = try await performance.businessScores(year: year)
        let integration = Self.standings(business: business, current.result, round.configuration)?.byCode[code].map { standing in
            language.text(
                "report_integration",
                [
                    "year": year, "business": Shown.score(business[code]), "quadrant": language.text("quadrant_\(standing.quadrant.rawValue)"),
                    "party_rank": standing.rank.partyRank, "business_rank": standing.rank.businessRank, "gap": Shown.signed(standing.rank.gap),
                ]
            )
        }
        // The trend of the years before this round and this round's score.
        let earlier = try await BranchHistoryRepository(database: results.database).years(code: code).years.filter { $0.year < round.summary.year }
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
        let notes = try await results.sheetNotes(roundID: round.summary.id, branchCode: subject.code).map { note in
            BranchReportPage.Note(
                item: forms["organisation"]?.item(note.item)?.label.text(english: language == .english) ?? note.item,
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
            sheet: subject.organisationSheet.flatMap { sheet in forms["organisation"].map { SheetSummary(sheet, form: $0, language: language) } },
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

    @Sendable func diagnostics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, round, current) = try await load(context)
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
                guard let result = subject.groups[group.rawValue], let share = result.straightLinedShare, result.responses >= 5, share >= 0.3 else {
                    continue
                }
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

    /// Party building beside business results: the two-skins diagnostic (docs/integration.md).
    /// The business scores are those of the round's year, newest version.
    @Sendable func integration(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
        let language = context.language
        let year = IntegratedSheets.performanceYear(round.configuration, roundYear: round.summary.year)
        // A closed round's page changes only when its year's results are loaded again: it is
        // computed once per version (a province's takes a few hundred milliseconds).
        let version = try await performance.newestVersion(year: year)
        let key = IntegrationPageKey(round: id, computedAt: current.computedAt, performanceVersion: version, language: language)
        if !current.provisional, let page = Self.integrationPages.value(for: key) {
            return try views.page("integration", page, context: context)
        }
        let page = try await integrationPage(id: id, round: round, current: current, year: year, language: language)
        if !current.provisional { Self.integrationPages.store(page, for: key) }
        return try views.page("integration", page, context: context)
    }

    /// Reads a closed round's results and integrated sheet and computes its diagnostic in both
    /// languages, unless they are ready, so that nobody waits for them (`ResultsWarmingService`).
    public func warm(roundID: UUID, logger: Logger) async throws {
        guard let summary = try await rounds.round(roundID), summary.status == .closed,
            let current = try await results.current(roundID: roundID, logger: logger), !current.provisional
        else { return }
        let round = RoundDetails(summary: summary, configuration: try await rounds.configuration(roundID) ?? RoundConfiguration())
        let year = IntegratedSheets.performanceYear(round.configuration, roundYear: summary.year)
        let version = try await performance.newestVersion(year: year)
        // Its frozen integrated sheet, decoded and kept.
        _ = try await integratedSheet(roundID, round, current, logger: logger)
        for language in Language.allCases {
            let key = IntegrationPageKey(round: roundID, computedAt: current.computedAt, performanceVersion: version, language: language)
            guard Self.integrationPages.value(for: key) == nil else { continue }
            Self.integrationPages.store(
                try await integrationPage(id: roundID, round: round, current: current, year: year, language: language),
                for: key
            )
        }
    }

    struct IntegrationPageKey: Hashable, Sendable {
        let round: UUID
        let computedAt: Date
        let performanceVersion: Int?
        let language: Language
    }

    static let integrationPages = TimedCache<IntegrationPageKey, IntegrationPage>(lifetime: .seconds(3600), capacity: 8)

    private func integrationPage(
        id: UUID,
        round: RoundDetails,
        current: ResultsRepository.Current,
        year: Int,
        language: Language
    ) async throws -> IntegrationPage {
        let business = try await performance.businessScores(year: year)
        let header = ResultsHeader(round: round.summary, current: current)
        let intro = language.text("integration_intro", ["year": year])
        // One light row per branch with both scores, in the results' order: a province has tens
        // of thousands, and copying whole results or looking codes up again adds up.
        struct Pair {
            let code: String
            let name: String
            let business: Double
            let party: Double
            let standing: Integration.Standing
            let dimensions: [String: Double]?
        }
        guard let standings = Self.standings(business: business, current.result, round.configuration) else {
            return IntegrationPage.nothingYet(header: header, intro: intro, none: language.text("integration_none", ["year": year]))
        }
        var paired: [Pair] = []
        var excluded: [IntegrationPage.Excluded] = []
        for subject in current.result.subjects {
            guard let party = subject.combined else { continue }
            guard let score = business[subject.code], let standing = standings.byCode[subject.code] else {
                excluded.append(.init(code: subject.code, name: subject.name))
                continue
            }
            // Dimensions only where the round shows them (at or above the anonymity threshold).
            let members = subject.groups["members"]
            paired.append(
                Pair(
                    code: subject.code,
                    name: subject.name,
                    business: score,
                    party: party,
                    standing: standing,
                    dimensions: members?.breakdownShown == true ? members?.dimensions.dictionary : nil
                )
            )
        }
        let businessScores = paired.map(\.business)
        let partyScores = paired.map(\.party)
        func coefficient(_ label: String, _ correlation: Integration.Correlation?) -> IntegrationPage.Coefficient? {
            guard let correlation else { return nil }
            let interval = correlation.low.map { "\(String(format: "%.2f", $0))–\(String(format: "%.2f", correlation.high ?? $0))" } ?? "–"
            return .init(label: label, value: String(format: "%.2f", correlation.coefficient), interval: interval, n: correlation.n)
        }
        let spearman = Integration.spearman(businessScores, partyScores)
        let coefficients = [
            coefficient(language.text("integration_spearman"), spearman),
            coefficient(language.text("integration_pearson"), Integration.pearsonCorrelation(businessScores, partyScores)),
        ].compactMap { $0 }
        let flagged = paired.filter(\.standing.rank.flagged).sorted { abs($0.standing.rank.gap) > abs($1.standing.rank.gap) }
        let memberForm = try await results.groupForms(roundID: id)["members"]
        let dimensions = (memberForm?.dimensions ?? []).compactMap { dimension -> IntegrationPage.Coefficient? in
            let pairs = paired.compactMap { pair -> (Double, Double)? in pair.dimensions?[dimension.key].map { (pair.business, $0) } }
            return coefficient(dimension.label.text(language), Integration.spearman(pairs.map(\.0), pairs.map(\.1)))
        }
        let counts = Dictionary(grouping: standings.byCode.values, by: \.quadrant).mapValues(\.count)
        return IntegrationPage(
            header: header,
            intro: intro,
            none: nil,
            hasData: true,
            chart: Charts.scatter(
                paired.map { pair in
                    Charts.Point(
                        label: "\(pair.code) \(pair.name)",
                        x: pair.business,
                        y: pair.party,
                        link: SiteURL.branchReport(id, branchCode: pair.code).path
                    )
                },
                xLine: standings.businessLine,
                yLine: standings.partyLine,
                xLabel: language.text("integration_axis_business"),
                yLabel: language.text("integration_axis_party"),
                corners: (
                    language.text("quadrant_joined"), language.text("quadrant_businessOnly"), language.text("quadrant_partyOnly"),
                    language.text("quadrant_bothLow")
                ),
                title: language.text("integration_title")
            ),
            lines: language.text(
                round.configuration.integrationSettings.businessLine == nil && round.configuration.integrationSettings.partyLine == nil
                    ? "integration_lines" : "integration_lines_set",
                ["business": Shown.score(standings.businessLine), "party": Shown.score(standings.partyLine)]
            ),
            coefficients: coefficients,
            caution: spearman?.needsCaution ?? true,
            quadrants: Integration.Quadrant.allCases.map { kind in
                .init(name: language.text("quadrant_\(kind.rawValue)"), count: counts[kind] ?? 0)
            },
            gaps: flagged.prefix(Self.listedAtMost).map { pair in
                IntegrationPage.Gap(
                    code: pair.code,
                    name: pair.name,
                    partyRank: pair.standing.rank.partyRank,
                    businessRank: pair.standing.rank.businessRank,
                    gap: Shown.signed(pair.standing.rank.gap),
                    quadrant: language.text("quadrant_\(pair.standing.quadrant.rawValue)"),
                    report: SiteURL.branchReport(id, branchCode: pair.code).path
                )
            },
            hasGaps: !flagged.isEmpty,
            gapsCut: flagged.count > Self.listedAtMost
                ? language.text("integration_gaps_cut", ["shown": Self.listedAtMost, "n": flagged.count]) : nil,
            excluded: Array(excluded.prefix(Self.listedAtMost)),
            hasExcluded: !excluded.isEmpty,
            excludedCut: excluded.count > Self.listedAtMost
                ? language.text("integration_excluded_cut", ["shown": Self.listedAtMost, "n": excluded.count]) : nil,
            dimensions: dimensions,
            hasDimensions: !dimensions.isEmpty
        )
    }

    /// The integrated sheet the performance office asks for (docs/integration.md).
    @Sendable func integratedSheet(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
        let language = context.language
        let header = ResultsHeader(round: round.summary, current: current)
        let settings = round.configuration.integrationSettings
        let weight = Shown.number(settings.partyWeight)
        let sheet = try await integratedSheet(id, round, current, logger: context.logger)
        func row(_ row: IntegratedSheet.Row) -> IntegratedSheetPage.Row {
            IntegratedSheetPage.Row(
                code: row.code,
                name: row.name,
                branchCode: row.branchCode,
                branchName: row.branchName,
                business: Shown.score(row.businessScore),
                businessGrade: row.businessGrade ?? "–",
                party: Shown.score(row.partyScore),
                partyGrade: row.partyGrade ?? "–",
                integrated: Shown.score(row.integratedScore),
                integratedGrade: row.integratedGrade ?? "–",
                rank: row.rank.map(String.init) ?? "–",
                barred: row.awardsBarred,
                report: SiteURL.branchReport(id, branchCode: row.branchCode).path
            )
        }
        let year = sheet?.sheet.performanceYear ?? IntegratedSheets.performanceYear(round.configuration, roundYear: round.summary.year)
        // A province's sheet has tens of thousands of rows: the page shows them 200 at a time.
        func pages(_ count: Int) -> Int { max((count + Self.pageSize - 1) / Self.pageSize, 1) }
        let branchPage = min(max(request.uri.queryParameters["branches"].flatMap { Int($0) } ?? 1, 1), pages(sheet?.sheet.branches.count ?? 0))
        let unitPage = min(max(request.uri.queryParameters["units"].flatMap { Int($0) } ?? 1, 1), pages(sheet?.sheet.units.count ?? 0))
        func link(branch: Int, unit: Int) -> String {
            SiteURL.integratedSheet(id.lowercased).path([("branches", String(branch)), ("units", String(unit))])
        }
        let page = IntegratedSheetPage(
            header: header,
            intro: language.text(
                "integrated_intro",
                ["year": year, "version": sheet?.sheet.performanceVersion.map(String.init) ?? "–", "weight": weight]
            ),
            formula: language.text("integrated_formula", ["weight": weight]),
            none: sheet == nil ? language.text("integrated_none", ["year": year]) : nil,
            hasSheet: sheet != nil,
            frozen: sheet?.frozen ?? false,
            newer: sheet?.newerVersion.map { language.text("integrated_newer", ["year": year, "version": $0]) },
            adopt: sheet?.newerVersion.map { language.text("integrated_adopt", ["version": $0]) },
            adoptAction: SiteURL.integratedSheet(id.lowercased).path,
            adopted: request.uri.queryParameters["adopted"] != nil,
            branches: Self.byIntegratedRank(sheet?.sheet.branches ?? []).dropFirst((branchPage - 1) * Self.pageSize).prefix(Self.pageSize).map(row),
            branchPager: Pager(page: branchPage, pages: pages(sheet?.sheet.branches.count ?? 0)) { link(branch: $0, unit: unitPage) },
            units: Self.byIntegratedRank(sheet?.sheet.units ?? []).dropFirst((unitPage - 1) * Self.pageSize).prefix(Self.pageSize).map(row),
            unitPager: Pager(page: unitPage, pages: pages(sheet?.sheet.units.count ?? 0)) { link(branch: branchPage, unit: $0) },
            hasUnits: !(sheet?.sheet.units ?? []).isEmpty
        )
        return try views.page("integrated", page, context: context)
    }

    /// Freezes a closed round's integrated sheet again with the newest version of its year's
    /// performance results: a decision someone takes, so it is in the audit log.
    @Sendable func adoptPerformanceVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try await existingRound(context)
        guard try await rounds.round(id)?.status == .closed else { throw AppError.notFound }
        try await integrated.freeze(
            roundID: id,
            version: nil,
            actor: context.auditActor,
            logger: context.logger
        )
        return .seeOther(.integratedSheet(id.lowercased), ["adopted": "1"])
    }

    /// The integrated sheet as CSV for Excel; `?lang=en` for English headers.
    @Sendable func integratedCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
        guard
            let sheet = try await integratedSheet(id, round, current, logger: context.logger)
        else { throw AppError.notFound }
        let language = Self.downloadLanguage(request)
        return .csvDownload(
            IntegratedTable.csv(sheet.sheet, language: language),
            disposition: Self.resultsDisposition(
                id,
                title: round.summary.title,
                what: "integrated",
                provisional: sheet.provisional,
                suffix: "csv",
                language: language
            )
        )
    }

    /// The committee's lists: candidates for rectification and for commendation, by the
    /// closed rounds up to this round's year.
    @Sendable func watchList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, round, current) = try await load(context)
        let language = context.language
        let names = Dictionary(current.result.subjects.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        let grades = round.configuration.bands.map(\.grade)
        let listed = try await BranchHistoryRepository(database: results.database).watchList(
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

    // MARK: Downloads

    /// The ranking as CSV for Excel; `?lang=en` for English headers.
    @Sendable func resultsCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
        let language = Self.downloadLanguage(request)
        return .csvDownload(
            ResultsTable.csv(current.result, language: language),
            disposition: Self.resultsDisposition(
                id,
                title: round.summary.title,
                what: "results",
                provisional: current.provisional,
                suffix: "csv",
                language: language
            )
        )
    }

    /// A results download's name: the round's title, what it holds, and whether the figures
    /// are final (`download_results` + `download_final`, with an ASCII fallback).
    static func resultsDisposition(
        _ id: UUID,
        title: String,
        what: String,
        provisional: Bool,
        suffix: String,
        language: Language
    ) -> String {
        let kind = provisional ? "provisional" : "final"
        return Response.roundDownload(
            title: title,
            parts: [language.text("download_\(what)"), language.text("download_\(kind)")],
            suffix: suffix,
            fallback: "\(what)-\(id.uuidString.prefix(8).lowercased())-\(kind)"
        )
    }

    /// The results as an Excel workbook, written to a temporary file and sent in pieces.
    @Sendable func resultsXLSX(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, round, current) = try await load(context)
        let sheet = try await integratedSheet(id, round, current, logger: context.logger)
        let language = Self.downloadLanguage(request)
        let path = try await results.workbook(roundID: id, result: current.result, integrated: sheet?.sheet, language: language)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: Self.resultsDisposition(
                    id,
                    title: round.summary.title,
                    what: "results",
                    provisional: current.provisional,
                    suffix: "xlsx",
                    language: language
                ),
                .cacheControl: "no-store",
            ],
            body: ResponseBody(contentLength: size) { writer in
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard let file = FileHandle(forReadingAtPath: path) else { throw AppError.notFound }
                defer { try? file.close() }
                while let data = try file.read(upToCount: 64 * 1024), !data.isEmpty {
                    try await writer.write(ByteBuffer(bytes: data))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Every evaluator's score sheet, item by item, with who scored, streamed.
    @Sendable func sheetsCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try await existingRound(context)
        let (database, logger) = (results.database, context.logger)
        return try await streamedCSV(id, request: request, part: "download_sheets", fallback: "sheets") { language, write in
            try await SheetsExport.csv(roundID: id, database: database, language: language, logger: logger, write: write)
        }
    }

    /// Every anonymous answer of the round, streamed.
    @Sendable func responsesCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try await existingRound(context)
        let threshold = try await rounds.configuration(id)?.anonymityThreshold ?? RoundConfiguration().anonymityThreshold
        let (database, logger) = (results.database, context.logger)
        return try await streamedCSV(id, request: request, part: "download_answers", fallback: "responses") { language, write in
            try await ResponsesExport.csv(roundID: id, threshold: threshold, database: database, language: language, logger: logger, write: write)
        }
    }

    /// A round's table streamed as CSV, named after the round and what it holds.
    private func streamedCSV(
        _ id: UUID,
        request: Request,
        part: String,
        fallback: String,
        produce: @escaping @Sendable (Language, _ write: (String) async throws -> Void) async throws -> Void
    ) async throws -> Response {
        let language = Self.downloadLanguage(request)
        return .csvDownload(
            disposition: Response.roundDownload(
                title: try await rounds.round(id)?.title ?? "",
                parts: [language.text(part)],
                suffix: "csv",
                fallback: "\(fallback)-\(id.uuidString.prefix(8).lowercased())"
            )
        ) { write in try await produce(language, write) }
    }

    // MARK: Helpers

    /// Each branch's combined (party-building) score, by code, for reading beside its business.
    static func partyScores(_ result: RoundResult) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: result.subjects.compactMap { subject in subject.combined.map { (subject.code, $0) } })
    }

    /// The round's integrated sheet with its own performance year and settings.
    private func integratedSheet(
        _ id: UUID,
        _ round: RoundDetails,
        _ current: ResultsRepository.Current,
        logger: Logger
    ) async throws -> IntegratedSheets.Current? {
        try await integrated.current(
            roundID: id,
            roundYear: round.summary.year,
            configuration: round.configuration,
            results: current,
            logger: logger
        )
    }

    /// Best integrated score first; rows without one last, in their order.
    static func byIntegratedRank(_ rows: [IntegratedSheet.Row]) -> [IntegratedSheet.Row] {
        rows.enumerated().sorted { ($0.element.rank ?? .max, $0.offset) < ($1.element.rank ?? .max, $1.offset) }.map(\.element)
    }

    /// Where each branch stands, with the quadrant lines the round sets (else the medians).
    static func standings(business: [String: Double], _ result: RoundResult, _ configuration: RoundConfiguration) -> Integration.Standings? {
        let settings = configuration.integrationSettings
        return Integration.standings(business: business, party: partyScores(result), lines: (settings.businessLine, settings.partyLine))
    }

    /// Downloads are Chinese unless `?lang=en` asks for English headers, whatever the page's
    /// language: the committee's copy is the Chinese one.
    static func downloadLanguage(_ request: Request) -> Language {
        request.uri.queryParameters["lang"] == "en" ? .english : .chinese
    }

    /// The id of the round named in the path, if there is such a round.
    private func existingRound(_ context: AppRequestContext) async throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), try await rounds.round(id) != nil else {
            throw AppError.notFound
        }
        return id
    }

    private func load(_ context: AppRequestContext) async throws -> (UUID, RoundDetails, ResultsRepository.Current) {
        let (round, current) = try await results.requested(context, rounds: rounds)
        let configuration = try await rounds.configuration(round.id) ?? RoundConfiguration()
        return (round.id, RoundDetails(summary: round, configuration: configuration), current)
    }

    struct RoundDetails {
        let summary: RoundSummary
        let configuration: RoundConfiguration
    }

    static func sorted(_ subjects: [SubjectResult], by key: String) -> [SubjectResult] {
        func score(_ subject: SubjectResult, _ group: String) -> Double { subject.groups[group]?.score ?? -1 }
        switch key {
        case "code": return subjects.sorted { $0.code < $1.code }
        case "organisation", "members", "public":
            return subjects.sorted { score($0, key) != score($1, key) ? score($0, key) > score($1, key) : $0.code < $1.code }
        default: return subjects  // already in rank order
        }
    }
}
