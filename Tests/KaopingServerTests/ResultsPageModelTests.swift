import Foundation
import KaopingAggregation
import KaopingForms
import Testing

@testable import KaopingServer

/// A round of three branches scored by the real method from hand-written answers, with the
/// figures worked out by hand from docs/scoring.md (default weights 0.5 / 0.3 / 0.2, member
/// quorum 3 and half, public quorum 10, bands 90 / 80 / 60, veto grade 一般):
///
/// - b1 一支部 (机关一处): sheet 100 − 10 = 90; members 5 × 80; public 10 × 70;
///   0.5 × 90 + 0.3 × 80 + 0.2 × 70 = 83.00 → 良好, rank 3.
/// - b2 二支部 (机关二处): sheet 100 − 5 = 95 and bonus 3; members 85, 90, 90, 95 (mean 90,
///   sample sd √(50/3) = 4.08); public 10 × 80; 47.5 + 27 + 16 = 90.50, + 3 = 93.50 → 优秀, rank 2.
/// - b3 三支部 (机关一处): sheet 100 with the baseline item `safe` failed; members 50 and 60
///   (2 < 3: below quorum, mean 55); public 10 × 90; (0.5 × 100 + 0.2 × 90) / 0.7 = 97.14 →
///   band 优秀, vetoed to 一般, rank 1.
enum ResultsFixture {
    static let round = UUID(uuidString: "0A0B0C0D-0000-4000-8000-000000000001")!

    static let summary = RoundSummary(
        id: round,
        title: "2026 年度考评",
        year: 2026,
        status: .open,
        opensAt: nil,
        closesAt: nil,
        openedAt: nil,
        closedAt: nil,
        configHash: "abc",
        branches: 3
    )

    static let header = ResultsHeader(
        title: summary.title,
        provisional: true,
        standby: nil,
        computedAt: "2026-12-03 18:00",
        method: "v1",
        configHash: "abc",
        links: .init(round)
    )

    static func configuration(threshold: Int = 5) -> RoundConfiguration {
        RoundConfiguration(anonymityThreshold: threshold)
    }

    static func answers(_ scores: [Double?], straightLined: Int = 0) -> [ResponseInput] {
        scores.enumerated().map { index, score in
            ResponseInput(score: score, dimensions: [score], straightLined: index < straightLined)
        }
    }

    static func input(threshold: Int) -> RoundInput {
        RoundInput(
            configuration: configuration(threshold: threshold),
            configurationHash: "abc",
            sheet: SheetLayout(deductions: [.init(key: "d1", maximum: 100)], baselines: ["safe"], bonuses: [.init(key: "x1", cap: 5)]),
            dimensionKeys: [.members: ["thinking"]],
            subjects: [
                SubjectInput(
                    code: "b1",
                    name: "一支部",
                    parent: "机关一处",
                    eligibleMembers: 6,
                    responses: [.members: answers(Array(repeating: 80, count: 5)), .public: answers(Array(repeating: 70, count: 10))],
                    sheets: [SheetInput(evaluator: "e1", lost: ["d1": 10])]
                ),
                SubjectInput(
                    code: "b2",
                    name: "二支部",
                    parent: "机关二处",
                    eligibleMembers: 7,
                    responses: [.members: answers([85, 90, 90, 95]), .public: answers(Array(repeating: 80, count: 10))],
                    sheets: [SheetInput(evaluator: "e1", lost: ["d1": 5], bonus: ["x1": 3])]
                ),
                SubjectInput(
                    code: "b3",
                    name: "三支部",
                    parent: "机关一处",
                    eligibleMembers: 6,
                    responses: [.members: answers([50, 60]), .public: answers(Array(repeating: 90, count: 10))],
                    sheets: [SheetInput(evaluator: "e1", failedBaselines: ["safe"])]
                ),
            ]
        )
    }

    /// The round's results as every page receives them: with the anonymity threshold applied.
    static func result(threshold: Int = 5) -> RoundResult {
        var result = Aggregation.run(input(threshold: threshold))
        result.disclose()
        return result
    }

    static func subject(_ code: String, threshold: Int = 5) throws -> SubjectResult {
        try #require(result(threshold: threshold).subjects.first { $0.code == code })
    }

    static let memberForm = try! FormLoader.parse(
        yaml: """
            id: members
            version: 1
            kind: survey
            title: {zh-Hans: 党员评价}
            dimensions:
              - key: thinking
                label: {zh-Hans: 思想认识融合, en: Shared understanding}
            scales:
              - key: three
                options:
                  - {key: "3", label: {zh-Hans: 好, en: Good}, points: 100}
                  - {key: "2", label: {zh-Hans: 中, en: Fair}, points: 50}
                  - {key: "1", label: {zh-Hans: 差, en: Poor}, points: 0}
            sections:
              - key: one
                dimension: thinking
                title: {zh-Hans: 一}
                items:
                  - key: q1
                    type: rating
                    scale: three
                    label: {zh-Hans: 统筹谋划, en: Planning}
                  - key: good
                    type: long-text
                    required: false
                    label: {zh-Hans: 做得好的地方, en: What works}
            """,
        file: "members.yaml"
    )

    static let sheetForm = try! FormLoader.parse(
        yaml: """
            id: sheet
            version: 1
            kind: sheet
            title: {zh-Hans: 组织考评表}
            deduction-total: 100
            sections:
              - key: all
                title: {zh-Hans: 全部}
                items:
                  - key: d1
                    type: deduction
                    max: 100
                    label: {zh-Hans: 组织生活, en: Organisation life}
                  - key: safe
                    type: baseline
                    label: {zh-Hans: 未发生严重违纪, en: No serious violation}
                  - key: x1
                    type: bonus
                    cap: 5
                    label: {zh-Hans: 获得表彰, en: Commended}
            """,
        file: "sheet.yaml"
    )

    static let forms = ["members": memberForm, "organisation": sheetForm]

    /// b2's answers to the member form: three 好 and one 中 to q1, and one comment.
    static var details: ResultsRepository.BranchDetails {
        var details = ResultsRepository.BranchDetails()
        details.counts["members"] = ["q1": ["3": 3, "2": 1]]
        details.comments["members"] = ["good": ["支部学习安排得好"]]
        return details
    }

    /// Business 90 / 70 / 80 with the lines at 75 and 90: party ranks b3 1, b2 2, b1 3;
    /// business ranks b1 1, b3 2, b2 3; b2 is under the business line and over the party line.
    static func diagnostic(_ result: RoundResult) -> ResultsService.Diagnostic {
        ResultsService.Diagnostic(
            year: 2025,
            diagnostic: IntegrationDiagnostic.make(
                subjects: result.subjects.map { .init(code: $0.code, name: $0.name, party: $0.combined, memberDimensions: nil) },
                business: ["b1": 90, "b2": 70, "b3": 80],
                lines: (75, 90),
                dimensionKeys: []
            ),
            memberForm: nil
        )
    }

    static func year(_ year: Int, _ combined: Double?, grade: String? = nil, belowQuorum: Bool = false) -> BranchRecord.Year {
        BranchRecord.Year(
            year: year,
            roundTitle: "\(year) 年度考评",
            combined: combined,
            grade: grade,
            rank: nil,
            ranked: 0,
            belowQuorum: belowQuorum,
            groups: [:],
            dimensions: [:],
            businessScore: nil,
            memberForm: nil
        )
    }

    static func report(
        _ code: String,
        threshold: Int = 5,
        closedYears: [BranchRecord.Year] = [],
        administrator: Bool = true,
        language: Language = .chinese
    ) throws -> BranchReportPage {
        let result = result(threshold: threshold)
        let subject = try #require(result.subjects.first { $0.code == code })
        return BranchReportPage.make(
            subject,
            round: summary,
            configuration: configuration(threshold: threshold),
            header: header,
            forms: forms,
            details: code == "b2" ? details : .init(),
            notes: [(item: "d1", text: "记录不全"), (item: "retired", text: "旧项目")],
            diagnostic: diagnostic(result),
            closedYears: closedYears,
            readByAdministrator: administrator,
            summaryOnly: false,
            language: language
        )
    }
}

@Suite("Results page models")
struct ResultsPageModelTests {
    typealias Fixture = ResultsFixture

    static func ranking(_ query: ResultsPage.Query = .init(), pageSize: Int = 200) -> ResultsPage {
        ResultsPage.make(
            Fixture.result(),
            configuration: Fixture.configuration(),
            forms: [:],
            roundID: Fixture.round,
            header: Fixture.header,
            query: query,
            pageSize: pageSize,
            language: .chinese
        )
    }

    // MARK: Ranking

    @Test func theRankingListsTheBranchesByCombinedScoreWithTheirGroupScores() {
        let page = Self.ranking()
        #expect(page.rows.map(\.code) == ["b3", "b2", "b1"])
        #expect(page.rows.map(\.rank) == ["1", "2", "3"])
        #expect(page.rows.map(\.combined) == ["97.14", "93.50", "83.00"])
        #expect(page.rows.map(\.organisation.score) == ["100.00", "95.00", "90.00"])
        #expect(page.rows.map(\.members.score) == ["55.00", "90.00", "80.00"])
        #expect(page.rows.map(\.members.n) == [2, 4, 5])
        #expect(page.rows.map(\.public.score) == ["90.00", "80.00", "70.00"])
        // Only b3's members missed their quorum; the bonus column is empty without a bonus.
        #expect(page.rows.map(\.members.insufficient) == [true, false, false])
        #expect(page.rows.map(\.public.insufficient) == [false, false, false])
        #expect(page.rows.map(\.bonus) == ["", "3.00", ""])
        #expect(page.count == 3 && page.hasRows && page.pager == nil)
        #expect(page.rows.map(\.report) == ["b3", "b2", "b1"].map { "/admin/rounds/\(Fixture.round.lowercased)/results/\($0)" })
    }

    @Test func aVetoedBranchShowsItsGradeItsBandAndTheFailedItem() {
        let rows = Self.ranking().rows
        #expect(rows.map(\.grade) == ["一般", "优秀", "良好"])
        #expect(rows.map(\.vetoed) == [true, false, false])
        #expect(rows.map(\.gradeChanged) == [true, false, false])
        #expect(rows[0].band == "优秀" && rows[0].failed == "safe")
        #expect(rows[1].failed.isEmpty && rows[2].failed.isEmpty)
        // b3's score rests on the organisation and the public only.
        #expect(rows.map(\.partial) == ["仅依据组织评价、群众评价", nil, nil])
    }

    @Test func theRankingSortsByCodeOrByAGroupsScore() {
        #expect(Self.ranking(.init(sort: "code")).rows.map(\.code) == ["b1", "b2", "b3"])
        #expect(Self.ranking(.init(sort: "members")).rows.map(\.code) == ["b2", "b1", "b3"])
        #expect(Self.ranking(.init(sort: "organisation")).rows.map(\.code) == ["b3", "b2", "b1"])
        // Anything else is the rank.
        #expect(Self.ranking(.init(sort: "nonsense")).rows.map(\.code) == ["b3", "b2", "b1"])
    }

    @Test func theRankingFiltersBySuperiorOrganisationAndKeepsTheFilterInItsLinks() {
        let page = Self.ranking(.init(organisation: "机关一处", sort: "members"))
        #expect(page.rows.map(\.code) == ["b1", "b3"])
        #expect(page.count == 2)
        #expect(page.organisations.map(\.name) == ["机关一处", "机关二处"])
        #expect(page.organisations.map(\.selected) == [true, false])
        #expect(page.sortLinks.code.contains("org=") && page.sortLinks.code.contains("sort=code"))
        // An empty choice is every branch.
        #expect(Self.ranking(.init(organisation: "")).count == 3)
    }

    @Test func theRankingShowsAPageAtATime() throws {
        let second = Self.ranking(.init(sort: "code", page: 2), pageSize: 2)
        #expect(second.rows.map(\.code) == ["b3"])
        #expect(second.count == 3)
        let pager = try #require(second.pager)
        #expect(pager.page == 2 && pager.pages == 2 && pager.next == nil)
        // The first page's link has no page number and keeps the order.
        #expect(pager.previous == "/admin/rounds/\(Fixture.round.lowercased)/results?sort=code")
        #expect(Self.ranking(.init(page: 0), pageSize: 2).rows.map(\.code) == ["b3", "b2"])
    }

    // MARK: Diagnostics

    /// Straight-lined answers: d1's members 3 of 6 (50%), d2's public 4 of 10 (40%), d3's
    /// members 1 of 5 (20%, under the 30% that flags), d4's members 5 of 5 but only 4 of them
    /// scored, so n = 4.
    static func straightLined(threshold: Int) -> RoundResult {
        let answers = Fixture.answers
        var result = Aggregation.run(
            RoundInput(
                configuration: Fixture.configuration(threshold: threshold),
                configurationHash: "abc",
                sheet: nil,
                dimensionKeys: [.members: ["thinking"]],
                subjects: [
                    SubjectInput(code: "d1", name: "甲", eligibleMembers: 6, responses: [.members: answers([80, 80, 80, 70, 60, 90], 3)]),
                    SubjectInput(code: "d2", name: "乙", eligibleMembers: 6, responses: [.public: answers(Array(repeating: 75, count: 10), 4)]),
                    SubjectInput(code: "d3", name: "丙", eligibleMembers: 6, responses: [.members: answers([80, 70, 60, 90, 85], 1)]),
                    SubjectInput(code: "d4", name: "丁", eligibleMembers: 6, responses: [.members: answers([100, 100, 100, 100, nil], 5)]),
                ]
            )
        )
        result.disclose()
        return result
    }

    static func diagnostics(_ result: RoundResult, threshold: Int = 5, listedAtMost: Int = 200) -> DiagnosticsPage {
        DiagnosticsPage.make(
            result,
            configuration: Fixture.configuration(threshold: threshold),
            roundID: Fixture.round,
            header: Fixture.header,
            listedAtMost: listedAtMost,
            language: .chinese
        )
    }

    @Test func theDiagnosticsListStraightLinedGroupsLargestShareFirst() {
        let page = Self.diagnostics(Self.straightLined(threshold: 5))
        #expect(page.flagged.map(\.code) == ["d1", "d2"])
        #expect(page.flagged.map(\.group) == ["党员评价", "群众评价"])
        #expect(page.flagged.map(\.share) == ["50%", "40%"])
        #expect(page.flagged.map(\.responses) == [6, 10])
        #expect(page.flaggedCount == 2 && page.hasFlagged)
        let cut = Self.diagnostics(Self.straightLined(threshold: 5), listedAtMost: 1)
        #expect(cut.flagged.map(\.code) == ["d1"] && cut.flaggedCount == 2)
    }

    @Test func aStraightLinedGroupBelowItsRoundsThresholdIsNotListed() {
        // d4 has n = 4: listed at k = 4, withheld at k = 5.
        #expect(Self.diagnostics(Self.straightLined(threshold: 4), threshold: 4).flagged.map(\.code).contains("d4"))
        #expect(!Self.diagnostics(Self.straightLined(threshold: 5)).flagged.map(\.code).contains("d4"))
    }

    @Test func theDiagnosticsCountGroupsBelowQuorumAndNameEachConfiguredGroup() {
        let page = Self.diagnostics(Fixture.result())
        #expect(page.insufficientCount == 1)  // b3's members
        #expect(page.incompleteCount == 0)
        #expect(page.alpha.map(\.label) == ["组织评价", "党员评价", "群众评价"])
        var withoutPublic = Fixture.configuration()
        withoutPublic.groups[.public] = nil
        let fewer = DiagnosticsPage.make(
            Fixture.result(),
            configuration: withoutPublic,
            roundID: Fixture.round,
            header: Fixture.header,
            listedAtMost: 200,
            language: .english
        )
        #expect(fewer.alpha.map(\.label) == ["Organisation", "Members"])
    }

    // MARK: Branch report

    @Test func theReportShowsTheBranchsScoresAndTheSumThatGivesThem() throws {
        let page = try Fixture.report("b2")
        #expect(page.code == "b2" && page.name == "二支部" && page.parent == "机关二处")
        #expect(page.rank == "2" && page.combined == "93.50" && page.combinedBeforeBonus == "90.50" && page.bonus == "3.00")
        #expect(page.grade == "优秀" && !page.vetoed)
        #expect(page.weights?.shares == "组织评价 50%、党员评价 30%、群众评价 20%")
        #expect(page.weights?.sum == "50% × 95.00 + 30% × 90.00 + 20% × 80.00 = 90.50；加分 3.00，综合得分 93.50")
        #expect(page.weights?.leftOut == nil)
        #expect(page.groups.map(\.label) == ["组织评价", "党员评价", "群众评价"])
        #expect(page.groups.map(\.score) == ["95.00", "90.00", "80.00"])
        // The public's ten lose their highest and lowest (trimming from seven on); four do not.
        #expect(page.groups.dropFirst().map(\.n) == [4, 10])
        #expect(page.groups.dropFirst().map(\.nTrimmed) == [4, 8])
        #expect(page.groups.map(\.survey) == [false, true, true])
        #expect(page.threshold == 5)
    }

    @Test func aVetoedBranchsReportNamesTheFailedItemAndTheGroupsLeftOut() throws {
        let page = try Fixture.report("b3")
        #expect(page.vetoed && page.grade == "一般" && page.band == "优秀" && page.rank == "1")
        #expect(page.combined == "97.14" && page.bonus == "0.00")
        #expect(page.sheet?.failed == ["未发生严重违纪"])
        #expect(page.sheet?.hasFailed == true)
        #expect(page.sheet?.base == "100.00")
        #expect(page.weights?.shares == "组织评价 71.4%、群众评价 28.6%")
        #expect(page.weights?.sum == "71.4% × 100.00 + 28.6% × 90.00 = 97.14")
        #expect(page.weights?.leftOut == "（党员评价未计入：份数未达最低要求或没有评价）")
        #expect(page.groups[1].insufficient && !page.groups[2].insufficient)
        let english = try Fixture.report("b3", language: .english)
        #expect(english.sheet?.failed == ["No serious violation"])
        #expect(english.weights?.shares == "Organisation 71.4%, Public 28.6%")
    }

    @Test func aGroupBelowItsRoundsThresholdShowsNoBreakdown() throws {
        // b2's members are four: below the threshold at k = 5, at it at k = 4.
        let hidden = try #require(try Fixture.report("b2", threshold: 5).groups.first { $0.label == "党员评价" })
        #expect(!hidden.shown)
        #expect(hidden.items.isEmpty && hidden.comments.isEmpty && hidden.chart == nil)
        #expect(hidden.sd == "–" && hidden.ci == "–")
        // What the combined score is made of stays.
        #expect(hidden.score == "90.00" && hidden.n == 4 && hidden.weight == "0.30")

        let shown = try #require(try Fixture.report("b2", threshold: 4).groups.first { $0.label == "党员评价" })
        #expect(shown.shown)
        #expect(shown.sd == "4.08")
        #expect(shown.chart != nil)
        #expect(shown.items.map(\.label) == ["统筹谋划"])
        #expect(shown.items.first?.options.map(\.label) == ["好", "中", "差"])
        #expect(shown.items.first?.options.map(\.count) == [3, 1, 0])
        #expect(shown.items.first?.options.map(\.share) == ["75%", "25%", "0%"])
        #expect(shown.comments.map(\.label) == ["做得好的地方"])
        #expect(shown.comments.first?.texts == ["支部学习安排得好"])
        // The public's ten answers are above either threshold.
        #expect(try Fixture.report("b2", threshold: 5).groups.last?.shown == true)
    }

    @Test func aBranchSecretaryReadsTheirOwnBranchAlone() throws {
        let page = try Fixture.report("b2", administrator: false)
        // Their own branch's record is theirs to read too.
        #expect(!page.isAdmin && page.history == "/admin/org/branches/b2/history")
        #expect(page.code == "b2" && page.combined == "93.50")
        // The diagnostic holds every branch: the report reads b2's line of it, no other.
        #expect(
            page.integration
                == "与业务对照（2025 年度绩效）：业务得分 70.00，位于“党建悬浮”象限；党建排名第 2，业务排名第 3，差距 -1。"
        )
        #expect(page.summaryLink == "/admin/rounds/\(Fixture.round.lowercased)/results/b2?view=summary")
        #expect(try Fixture.report("b2").history == "/admin/org/branches/b2/history")
    }

    @Test func theReportsTrendReadsTheEarlierYearsAndThisRound() throws {
        // The closed years 2024 (85) and 2025 (89), then this round (93.50): slope 4.25 a year.
        // The record also holds this year's closed result, which must not count twice.
        let years = [Fixture.year(2024, 85), Fixture.year(2025, 89), Fixture.year(2026, 93.5)]
        #expect(try Fixture.report("b2", closedYears: years).trend == "近三年趋势：上升（每年 +4.25 分）。")
        #expect(try Fixture.report("b2", closedYears: [Fixture.year(2025, 89)]).trend == nil)
    }

    @Test func theReportNamesTheNotedItemsByTheirLabels() throws {
        let page = try Fixture.report("b2")
        #expect(page.notes.map(\.item) == ["组织生活", "retired"])
        #expect(page.notes.map(\.text) == ["记录不全", "旧项目"])
        #expect(page.hasNotes)
    }

    // MARK: Integrated sheet

    /// Units u1 (b1, 90) and u3 (b3, 80); b2 has none. With the party-building weight 0.2:
    /// b1 0.8 × 90 + 0.2 × 83 = 88.60, b3 0.8 × 80 + 0.2 × 97.14 = 83.43, b2 without a score.
    static func integrated(_ query: IntegratedSheetPage.Query = .init(), pageSize: Int = 200) -> IntegratedSheetPage {
        let result = Fixture.result()
        let sheet = IntegratedSheet.make(
            result: result,
            units: [
                UnitPerformance(code: "u1", name: "一处", branchCode: "b1", headcount: 10, score: 90, grade: "A"),
                UnitPerformance(code: "u3", name: "三处", branchCode: "b3", headcount: 10, score: 80, grade: "B"),
            ],
            performanceYear: 2025,
            performanceVersion: 2,
            settings: .standard,
            bands: Fixture.configuration().bands
        )
        return IntegratedSheetPage.make(
            .init(sheet: sheet, frozen: false, newerVersion: nil, provisional: true),
            roundID: Fixture.round,
            performanceYear: 2026,
            settings: .standard,
            header: Fixture.header,
            query: query,
            pageSize: pageSize,
            language: .chinese
        )
    }

    @Test func theIntegratedSheetListsBranchesByIntegratedRankThoseWithoutAScoreLast() {
        let page = Self.integrated()
        #expect(page.branches.map(\.code) == ["b1", "b3", "b2"])
        #expect(page.branches.map(\.integrated) == ["88.60", "83.43", "–"])
        #expect(page.branches.map(\.rank) == ["1", "2", "–"])
        #expect(page.branches.map(\.barred) == [false, true, false])  // b3 failed a baseline item
        #expect(page.units.map(\.code) == ["u1", "u3"])
        #expect(page.intro == "本表供绩效考核办公室使用：读取 2025 年度绩效结果第 2 版，党建占综合得分的比重为 0.20。")
        #expect(page.hasSheet && page.none == nil)
    }

    @Test func theIntegratedSheetKeepsARequestedPageWithinTheList() throws {
        let page = Self.integrated(.init(branchPage: 9), pageSize: 1)
        #expect(page.branches.map(\.code) == ["b2"])
        let pager = try #require(page.branchPager)
        #expect(pager.page == 3 && pager.pages == 3)
        #expect(pager.previous == "/admin/rounds/\(Fixture.round.lowercased)/integrated?branches=2&units=1")
    }

    @Test func withoutPerformanceResultsTheIntegratedSheetSaysForWhichYear() {
        let page = IntegratedSheetPage.make(
            nil,
            roundID: Fixture.round,
            performanceYear: 2025,
            settings: .standard,
            header: Fixture.header,
            query: .init(),
            pageSize: 200,
            language: .chinese
        )
        #expect(!page.hasSheet && page.branches.isEmpty && page.branchPager == nil)
        #expect(page.none == "2025 年度尚未导入业务绩效结果。请在“组织机构”中导入单位和绩效结果。")
    }
}
