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
