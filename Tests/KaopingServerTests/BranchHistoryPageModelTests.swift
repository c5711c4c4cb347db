import Foundation
import KaopingAggregation
import KaopingForms
import Testing

@testable import KaopingServer

/// A branch's record and the committee's watch list, made from hand-written years without a
/// database: the figures below are worked out from `BranchRecord` as docs/integration.md
/// describes it (the change from the year before, the least-squares slope of the last three
/// closed years, the lists of the closed years only).
@Suite("Branch record page models")
struct BranchHistoryPageModelTests {
    static let rounds = (0..<4).map { UUID(uuidString: "0A0B0C0D-0000-4000-8000-00000000002\($0)")! }

    static func year(
        _ year: Int,
        _ combined: Double?,
        grade: String?,
        rank: Int? = nil,
        ranked: Int = 40,
        belowQuorum: Bool = false,
        groups: [String: Double] = [:],
        dimensions: [String: Double] = [:],
        business: Double? = nil,
        memberForm: String? = nil
    ) -> BranchRecord.Year {
        BranchRecord.Year(
            year: year,
            roundTitle: "\(year) 年度考评",
            combined: combined,
            grade: grade,
            rank: rank,
            ranked: ranked,
            belowQuorum: belowQuorum,
            groups: groups,
            dimensions: dimensions,
            businessScore: business,
            memberForm: memberForm
        )
    }

    /// Three closed years at 优秀 (91, 93, 91.5: a slope of +0.25, steady) and this year's open
    /// round at 70 一般. Counted with the closed ones, the open year would make the trend falling
    /// (−11.50 a year) and take the branch off the commendation list.
    static let record = ResultsService.BranchRecordSoFar(
        history: .init(
            years: [
                year(
                    2023,
                    91,
                    grade: "优秀",
                    rank: 3,
                    groups: ["organisation": 92, "members": 90, "public": 88.5],
                    dimensions: ["thinking": 88],
                    business: 85,
                    memberForm: "a"
                ),
                year(2024, 93, grade: "优秀", rank: 1, memberForm: "b"),
                year(2025, 91.5, grade: "优秀", rank: 2, ranked: 38, memberForm: "b"),
                year(2026, 70, grade: "一般", rank: 30),
            ],
            rounds: rounds,
            memberForm: nil
        ),
        closedCount: 3,
        provisional: [3]
    )

    static let grades = RoundConfiguration.defaultBands.map(\.grade)
    static let written = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01 08:00 in Beijing

    static func page(
        _ record: ResultsService.BranchRecordSoFar = record,
        assessments: [BranchHistoryRepository.Assessment] = [],
        form: BranchHistoryPage.AssessmentForm = .empty,
        language: Language = .chinese
    ) -> BranchHistoryPage {
        BranchHistoryPage.make(
            code: "b1",
            name: "一支部",
            record: record,
            memberForm: ResultsFixture.memberForm,
            grades: grades,
            assessments: assessments,
            form: form,
            currentYear: 2030,
            language: language
        )
    }

    @Test func theRecordListsItsYearsInOrderWithTheChangeFromTheYearBefore() {
        let rows = Self.page().years
        #expect(rows.map(\.year) == [2023, 2024, 2025, 2026])
        #expect(rows.map(\.combined) == ["91.00", "93.00", "91.50", "70.00"])
        #expect(rows.map(\.change) == ["–", "+2.00", "-1.50", "-21.50"])
        #expect(rows.map(\.grade) == ["优秀", "优秀", "优秀", "一般"])
        #expect(rows.map(\.provisional) == [false, false, false, true])
        #expect(rows.first?.rank == "第 3 / 40 名（前 7.5%）")
        #expect(rows.first?.groups == ["92.00", "90.00", "88.50"])
        #expect(rows[1].groups == ["–", "–", "–"])
        #expect(rows.map(\.business) == ["85.00", "–", "–", "–"])
        #expect(rows.map(\.dimensions) == [["88.00"], ["–"], ["–"], ["–"]])
        #expect(rows.map(\.report) == Self.rounds.map { "/admin/rounds/\($0.lowercased)/results/b1" })
    }

    @Test func aChangedMemberFormIsMarkedWhereItChanged() {
        let page = Self.page()
        // a → b between 2023 and 2024; 2026's form is unknown, which is no change.
        #expect(page.years.map(\.formChanged) == [false, true, false, false])
        #expect(page.formNote)
        #expect(page.dimensionHeaders == ["思想认识融合"] && page.dimensionChart != nil)
        #expect(page.groupHeaders == ["组织评价", "党员评价", "群众评价"])
    }

    @Test func theTrendAndTheListsReadTheClosedYearsOnly() {
        let page = Self.page()
        #expect(page.trend == "近三年趋势：平稳（每年 +0.25 分）。")
        #expect(page.watch == "该支部连续三年为最高等次，列为表彰候选。")
    }

    @Test func twoYearsAtTheLowestGradeOrBelowQuorumPutTheBranchUpForRectification() {
        let record = ResultsService.BranchRecordSoFar(
            history: .init(
                years: [Self.year(2024, 55, grade: "较差"), Self.year(2025, nil, grade: nil, belowQuorum: true)],
                rounds: Array(Self.rounds.prefix(2)),
                memberForm: nil
            ),
            closedCount: 2,
            provisional: []
        )
        let page = Self.page(record)
        #expect(page.watch == "该支部连续两年为最低等次或未达法定份数，列为整顿候选。")
        #expect(page.years.map(\.grade) == ["较差", "份数不足"])
        #expect(page.years.map(\.change) == ["–", "–"])
        #expect(page.years.map(\.rank) == ["–", "–"])
        #expect(page.trend == nil)  // two years say nothing of a trend
    }

    @Test func theAssessmentsShowTheirPeriodAndWhetherTheyWereEdited() {
        let assessments = [
            BranchHistoryRepository.Assessment(
                id: UUID(),
                firstYear: 2023,
                lastYear: 2025,
                level: .fairlyGood,
                judgement: "融合较好",
                author: "张三",
                createdAt: Self.written,
                updatedAt: Self.written.addingTimeInterval(0.5)
            ),
            BranchHistoryRepository.Assessment(
                id: UUID(),
                firstYear: 2021,
                lastYear: 2023,
                level: .poor,
                judgement: "需要整改",
                author: "李四",
                createdAt: Self.written,
                updatedAt: Self.written.addingTimeInterval(3600)
            ),
        ]
        let page = Self.page(assessments: assessments)
        #expect(page.assessments.map(\.period) == ["2023—2025 年度", "2021—2023 年度"])
        #expect(page.assessments.map(\.level) == ["较好", "差"])
        #expect(page.assessments.map(\.written) == ["2026-01-01 08:00", "2026-01-01 08:00"])
        #expect(page.assessments.map(\.edited) == [nil, "2026-01-01 09:00"])
        #expect(page.assessments[1].levels.filter(\.selected).map(\.value) == ["poor"])
    }

    @Test func aNewAssessmentCoversTheLastThreeYearsUnlessTheReaderChoseOthers() {
        let page = Self.page()
        #expect(page.newFirstYear == "2024" && page.newLastYear == "2026")
        #expect(!page.newLevels.contains(where: \.selected) && !page.hasProblems && !page.saved)
        let empty = ResultsService.BranchRecordSoFar(history: .init(years: [], rounds: [], memberForm: nil), closedCount: 0, provisional: [])
        let fresh = Self.page(empty)
        #expect(fresh.newFirstYear == "2028" && fresh.newLastYear == "2030")
        #expect(!fresh.hasYears && fresh.chart == nil && fresh.trend == nil && fresh.watch == nil)

        let draft = BranchHistoryRepository.AssessmentDraft(firstYear: 2025, lastYear: 2023, level: .good, judgement: "草稿")
        let returned = Self.page(form: .init(draft: draft, saved: false))
        #expect(returned.newFirstYear == "2025" && returned.newLastYear == "2023" && returned.newText == "草稿")
        #expect(returned.problems == ["截止年度不能早于起始年度"] && returned.hasProblems)
        #expect(returned.newLevels.filter(\.selected).map(\.value) == ["good"])
        #expect(Self.page(form: .init(draft: nil, saved: true)).saved)
    }

    // MARK: Watch list

    @Test func theWatchListSortsBranchesOntoTheirListsAndNamesTheRoundsGrades() {
        var configuration = RoundConfiguration()
        configuration.bands = [.init(grade: "A", minimum: 90), .init(grade: "B", minimum: 60), .init(grade: "C", minimum: 0)]
        let page = WatchListPage.make(
            listed: [
                (code: "b2", watch: .rectification, years: [Self.year(2025, 40, grade: "C"), Self.year(2026, nil, grade: nil, belowQuorum: true)]),
                (code: "b9", watch: .commendation, years: [2024, 2025, 2026].map { Self.year($0, 95, grade: "A") }),
                (code: "b1", watch: .commendation, years: []),
            ],
            subjects: ResultsFixture.result().subjects,
            configuration: configuration,
            year: 2026,
            header: ResultsFixture.header,
            language: .chinese
        )
        #expect(page.rectification.map(\.code) == ["b2"])
        #expect(page.rectification.map(\.name) == ["二支部"])
        // The years and grades behind each: a year below quorum says so instead of a grade.
        #expect(page.rectification.map(\.years) == ["2025 年度C，2026 年度份数不足"])
        #expect(page.commendation.first?.years == "2024 年度A，2025 年度A，2026 年度A")
        // In the order listed; a branch no longer in the round has no name here.
        #expect(page.commendation.map(\.code) == ["b9", "b1"])
        #expect(page.commendation.map(\.name) == ["", "一支部"])
        #expect(page.commendation.last?.history == "/admin/org/branches/b1/history")
        #expect(page.hasRectification && page.hasCommendation)
        #expect(page.explanation.contains("截至 2026 年度"))
        #expect(page.explanation.contains("最低等次（C）") && page.explanation.contains("最高等次（A）"))
    }
}
