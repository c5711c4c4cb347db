import Foundation
import Testing

@testable import KaopingAggregation

/// Reading party building beside business results: the business score of a branch, ranks,
/// quadrants, rank gaps, and Spearman's and Pearson's coefficients with their intervals checked
/// against SciPy (Fixtures/correlation.json, with the script that made it).
@Suite("Party building beside business results")
struct IntegrationTests {
    struct Case: Decodable {
        let name: String
        let business: [Double]
        let party: [Double]
        let spearman: Double
        let spearmanLow: Double?
        let spearmanHigh: Double?
        let pearson: Double
        let pearsonLow: Double?
        let pearsonHigh: Double?
        let businessAverageRanks: [Double]
        let partyCompetitionRanks: [Int]
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/correlation.json")
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func theFixturesAreThere() {
        #expect(Self.cases.count == 6)
    }

    @Test(arguments: cases.map(\.name))
    func matchesSciPy(_ name: String) throws {
        let reference = try #require(Self.cases.first { $0.name == name })
        let rho = try #require(Integration.spearman(reference.business, reference.party))
        #expect(abs(rho.coefficient - reference.spearman) < 1e-12)
        #expect(abs(try #require(rho.low) - (reference.spearmanLow ?? .nan)) < 1e-12)
        #expect(abs(try #require(rho.high) - (reference.spearmanHigh ?? .nan)) < 1e-12)
        #expect(rho.n == reference.business.count)
        let r = try #require(Integration.pearsonCorrelation(reference.business, reference.party))
        #expect(abs(r.coefficient - reference.pearson) < 1e-12)
        #expect(abs(try #require(r.low) - (reference.pearsonLow ?? .nan)) < 1e-12)
        #expect(abs(try #require(r.high) - (reference.pearsonHigh ?? .nan)) < 1e-12)
        #expect(Integration.averageRanks(reference.business) == reference.businessAverageRanks)
        #expect(Integration.competitionRanks(reference.party) == reference.partyCompetitionRanks)
    }

    @Test func tiesShareRanks() {
        #expect(Integration.averageRanks([70, 80, 80, 60]) == [2, 3.5, 3.5, 1])
        #expect(Integration.competitionRanks([70, 80, 80, 60]) == [3, 1, 1, 4])
    }

    @Test func cautionWithFewBranchesOrAnIntervalAcrossZero() throws {
        let few = try #require(Integration.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
        #expect(few.needsCaution)
        let three = try #require(Integration.spearman([1, 2, 3], [1, 3, 2]))
        #expect(three.low == nil && three.needsCaution)
        let strong = try #require(Integration.spearman(Array(stride(from: 1.0, through: 30, by: 1)), Array(stride(from: 2.0, through: 60, by: 2))))
        #expect(strong.coefficient == 1 && strong.low == 1 && !strong.needsCaution)
        #expect(Integration.spearman([1, 1, 1], [1, 2, 3]) == nil)  // no spread: undefined
    }

    @Test func quadrantsCountALineAsHigh() {
        #expect(Integration.quadrant(business: 80, party: 80, businessLine: 80, partyLine: 80) == .joined)
        #expect(Integration.quadrant(business: 90, party: 70, businessLine: 80, partyLine: 80) == .businessOnly)
        #expect(Integration.quadrant(business: 70, party: 90, businessLine: 80, partyLine: 80) == .partyOnly)
        #expect(Integration.quadrant(business: 79.99, party: 79.99, businessLine: 80, partyLine: 80) == .bothLow)
        #expect(Integration.median([3, 1, 2]) == 2)
        #expect(Integration.median([4, 1, 3, 2]) == 2.5)
        #expect(Integration.median([]) == nil)
    }

    @Test func rankGapsAreFlaggedFromAThirdOfTheBranches() {
        // Six branches: a gap of 2 or more is flagged.
        let gaps = Integration.rankGaps(business: [95, 90, 85, 80, 75, 70], party: [70, 90, 85, 80, 75, 95])
        #expect(gaps.map(\.gap) == [5, 0, 0, 0, 0, -5])
        #expect(gaps.map(\.flagged) == [true, false, false, false, false, true])
        let near = Integration.rankGaps(business: [95, 90, 85, 80, 75, 70], party: [90, 95, 85, 80, 70, 75])
        #expect(near.map(\.gap) == [1, -1, 0, 0, 1, -1])
        #expect(near.allSatisfy { !$0.flagged })
    }

    /// The limit itself: with nine branches a third is exactly 3, so a gap of 3 either way is
    /// flagged and a gap of 2 is not; with ten a third is 3⅓, so 3 is not flagged and 4 is.
    @Test func aRankGapOfExactlyAThirdIsFlaggedAndOneLessIsNot() {
        // Nine branches, business in descending order (ranks 1…9). Party swaps branches 1 and 4
        // (gap +3 and −3) and branches 6 and 8 (gap +2 and −2).
        let nine = Integration.rankGaps(
            business: [90, 80, 70, 60, 50, 40, 30, 20, 10],
            party: [60, 80, 70, 90, 50, 20, 30, 40, 10]
        )
        #expect(nine.map(\.partyRank) == [4, 2, 3, 1, 5, 8, 7, 6, 9])
        #expect(nine.map(\.gap) == [3, 0, 0, -3, 0, 2, 0, -2, 0])
        #expect(nine.map(\.flagged) == [true, false, false, true, false, false, false, false, false])

        // Ten branches: gaps of 4 (branches 1 and 5) flagged, gaps of 3 (branches 6 and 9) not.
        let ten = Integration.rankGaps(
            business: [100, 90, 80, 70, 60, 50, 40, 30, 20, 10],
            party: [60, 90, 80, 70, 100, 20, 40, 30, 50, 10]
        )
        #expect(ten.map(\.gap) == [4, 0, 0, 0, -4, 3, 0, 0, -3, 0])
        #expect(ten.map(\.flagged) == [true, false, false, false, true, false, false, false, false, false])
    }

    @Test func aBranchsBusinessScoreIsWeightedByHeadcount() throws {
        let weighted = try #require(Integration.businessScore([.init(score: 90, headcount: 30), .init(score: 60, headcount: 10)]))
        #expect(weighted == 82.5)
        // A unit without a headcount: every unit counts the same.
        #expect(Integration.businessScore([.init(score: 90, headcount: 30), .init(score: 60, headcount: nil)]) == 75)
        #expect(Integration.businessScore([.init(score: 90, headcount: 0), .init(score: 60, headcount: 10)]) == 75)
        #expect(Integration.businessScore([]) == nil)
    }

    @Test func standingsOfTheBranchesWithBothScores() throws {
        let standings = try #require(
            Integration.standings(business: ["b01": 82.5, "b02": 70, "b03": 90], party: ["b01": 91, "b02": 93.57, "b04": 80])
        ).byCode
        // b03 has no party score and b04 no business score: only b01 and b02 stand.
        #expect(Set(standings.keys) == ["b01", "b02"])
        #expect(standings["b01"] == .init(quadrant: .businessOnly, rank: .init(partyRank: 2, businessRank: 1, gap: 1, flagged: true)))
        #expect(standings["b02"]?.quadrant == .partyOnly)
        #expect(Integration.standings(business: ["b01": 80], party: ["b01": 90]) == nil)
    }
}

@Suite("Integrated sheet")
struct IntegratedSheetTests {
    static func subject(_ code: String, combined: Double?, grade: String?, failed: [String] = []) -> SubjectResult {
        SubjectResult(
            code: code,
            name: "支部\(code)",
            parent: nil,
            groups: [:],
            organisationSheet: SheetResult(evaluators: 1, baseScore: 90, bonus: 0, failedBaselines: failed, lost: [:], earned: [:]),
            status: combined == nil ? .incomplete : .complete,
            combinedBeforeBonus: combined,
            bonus: 0,
            combined: combined,
            bandGrade: grade,
            gradeAfterVeto: grade,
            grade: grade,
            vetoed: !failed.isEmpty,
            droppedByQuota: false,
            rank: nil
        )
    }

    static let result = RoundResult(
        methodVersion: "v1",
        configurationHash: "x",
        subjects: [
            subject("b1", combined: 91, grade: "优秀"), subject("b2", combined: 80, grade: "一般", failed: ["no_violations"]),
            subject("b3", combined: nil, grade: nil),
        ],
        diagnostics: Diagnostics(alpha: [:], lowAgreement: [])
    )

    static let units = [
        UnitPerformance(code: "u2", name: "财务处", branchCode: "b1", headcount: 10, score: 60, grade: nil),
        UnitPerformance(code: "u1", name: "办公室", branchCode: "b1", headcount: 30, score: 90, grade: "优秀"),
        UnitPerformance(code: "u3", name: "业务一处", branchCode: "b2", headcount: nil, score: 70, grade: nil),
        UnitPerformance(code: "u4", name: "业务二处", branchCode: "b2", headcount: 5, score: nil, grade: "良好"),
        UnitPerformance(code: "u5", name: "后勤处", branchCode: "b3", headcount: 8, score: 95, grade: nil),
    ]

    @Test func scoresGradesRanksAndTheAwardsVeto() {
        let sheet = IntegratedSheet.make(
            result: Self.result,
            units: Self.units,
            performanceYear: 2025,
            performanceVersion: 2,
            settings: IntegrationSettings(partyWeight: 0.2),
            bands: RoundConfiguration.defaultBands
        )
        #expect(sheet.units.map(\.code) == ["u1", "u2", "u3", "u4", "u5"])
        let u1 = sheet.units[0]
        #expect(abs(u1.integratedScore! - 90.2) < 1e-9)  // 0.8 × 90 + 0.2 × 91
        #expect(u1.integratedGrade == "优秀" && u1.partyGrade == "优秀" && u1.businessGrade == "优秀" && !u1.awardsBarred)
        #expect(abs(sheet.units[1].integratedScore! - 66.2) < 1e-9 && sheet.units[1].integratedGrade == "一般")
        // A failed baseline bars the staff of every unit of the branch.
        #expect(sheet.units[2].awardsBarred && sheet.units[2].failedBaselines == ["no_violations"])
        #expect(sheet.units[3].awardsBarred && sheet.units[3].integratedScore == nil && sheet.units[3].businessGrade == "良好")
        // A branch without a party-building score has no integrated score and no rank.
        #expect(sheet.units[4].integratedScore == nil && sheet.units[4].rank == nil)
        #expect(sheet.units.compactMap(\.rank) == [1, 3, 2])

        let b1 = sheet.branches[0]
        #expect(abs(b1.businessScore! - 82.5) < 1e-9)  // (30 × 90 + 10 × 60) / 40
        #expect(abs(b1.integratedScore! - 84.2) < 1e-9 && b1.integratedGrade == "良好" && b1.headcount == 40)
        // u4 has a grade but no score: b2's business score is u3's alone.
        let b2 = sheet.branches[1]
        #expect(b2.businessScore == 70 && abs(b2.integratedScore! - 72) < 1e-9 && b2.awardsBarred && b2.rank == 2)
        #expect(sheet.branches[2].businessScore == 95 && sheet.branches[2].integratedScore == nil)

        let lenient = IntegratedSheet.make(
            result: Self.result,
            units: Self.units,
            performanceYear: 2025,
            performanceVersion: 2,
            settings: IntegrationSettings(partyWeight: 0.5, baselineBarsAwards: false),
            bands: RoundConfiguration.defaultBands
        )
        #expect(!lenient.units.contains(where: \.awardsBarred) && !lenient.branches.contains(where: \.awardsBarred))
        #expect(abs(lenient.branches[0].integratedScore! - 86.75) < 1e-9)
    }

    @Test func settingsOutOfRangeAreProblemsOfTheConfiguration() {
        var configuration = RoundConfiguration()
        #expect(configuration.problems().isEmpty && configuration.integrationSettings == .standard)
        configuration.integration = IntegrationSettings(performanceYear: 1999, partyWeight: 1.5, businessLine: 120)
        #expect(configuration.problems().map(\.key) == ["config_performance_year", "config_party_weight", "config_quadrant_line"])
    }

    @Test func quadrantLinesSetByTheRoundReplaceTheMedians() {
        let business = ["a": 60.0, "b": 70, "c": 80, "d": 90]
        let party = ["a": 95.0, "b": 85, "c": 75, "d": 65]
        let medians = Integration.standings(business: business, party: party)!
        #expect(medians.businessLine == 75 && medians.byCode["c"]!.quadrant == .businessOnly)
        let set = Integration.standings(business: business, party: party, lines: (85, 70))!
        #expect(set.businessLine == 85 && set.partyLine == 70)
        #expect(
            set.byCode["c"]!.quadrant == .partyOnly && set.byCode["d"]!.quadrant == .businessOnly && set.byCode["b"]!.quadrant == .partyOnly
                && set.byCode["a"]!.quadrant == .partyOnly
        )
    }
}
