import Foundation
import Testing

@testable import KaopingAggregation

/// The sheet of the worked example: deductions 40, 30, 30; two baseline items; two bonus items.
let exampleSheet = SheetLayout(
    deductions: [.init(key: "d1", maximum: 40), .init(key: "d2", maximum: 30), .init(key: "d3", maximum: 30)],
    baselines: ["b1", "b2"],
    bonuses: [.init(key: "x1", cap: 5), .init(key: "x2", cap: 5)]
)

func responses(_ scores: [Double?]) -> [ResponseInput] {
    scores.map { ResponseInput(score: $0) }
}

func tally(_ scores: [Double?]) -> ResponseTally {
    ResponseTally(responses(scores))
}

/// Spec §7: the responses of branch A and of branch B.
func workedExampleResponses(_ branch: String) -> [RoundConfiguration.RaterGroup: [ResponseInput]] {
    branch == "A"
        ? [.members: responses([100, 90, 85, 80, 80, 75, 70, 20]), .public: responses(Array(repeating: 75, count: 12))]
        : [.members: responses([90, 95]), .public: responses(Array(repeating: 90, count: 10))]
}

/// Spec §7: branch A and branch B.
func workedExample() -> RoundInput {
    let a = SubjectInput(
        code: "A",
        name: "支部 A",
        eligibleMembers: 10,
        responses: workedExampleResponses("A"),
        sheets: [SheetInput(evaluator: "e1", lost: ["d1": 4, "d2": 0, "d3": 6], bonus: ["x1": 3, "x2": 4])]
    )
    let b = SubjectInput(
        code: "B",
        name: "支部 B",
        eligibleMembers: 6,
        responses: workedExampleResponses("B"),
        sheets: [SheetInput(evaluator: "e1", lost: ["d1": 5], failedBaselines: ["b2"])]
    )
    return RoundInput(configuration: RoundConfiguration(), configurationHash: "abc123", sheet: exampleSheet, subjects: [a, b])
}

@Suite("Aggregation method v1")
struct AggregationTests {
    @Test func theWorkedExampleOfTheSpecExactly() throws {
        let result = Aggregation.run(workedExample())
        #expect(result.methodVersion == "v1")
        #expect(result.configurationHash == "abc123")
        let a = try #require(result.subjects.first { $0.code == "A" })
        #expect(a.organisationSheet?.baseScore == 90)
        #expect(a.organisationSheet?.bonus == 7)
        #expect(a.groups["organisation"]?.score == 90)
        #expect(a.groups["members"]?.n == 8)
        #expect(a.groups["members"]?.nTrimmed == 6)
        #expect(a.groups["members"]?.score == 80)
        #expect(a.groups["public"]?.score == 75)
        #expect(a.combinedBeforeBonus == 84)
        #expect(a.combined == 91)
        #expect(a.grade == "优秀")
        #expect(!a.vetoed)

        let b = try #require(result.subjects.first { $0.code == "B" })
        #expect(b.groups["organisation"]?.score == 95)
        #expect(b.groups["members"]?.status == .insufficient)  // 2 responses, quorum 3
        #expect(b.groups["public"]?.score == 90)
        #expect(abs(try #require(b.combined) - 65.5 / 0.7) < 1e-12)
        #expect(Statistics.rounded2(b.combined!) == 93.57)
        #expect(b.bandGrade == "优秀")
        #expect(b.vetoed)
        #expect(b.gradeAfterVeto == "一般")
        #expect(b.grade == "一般")
        #expect(b.organisationSheet?.failedBaselines == ["b2"])
        // 93.57 ranks above 91.
        #expect(result.subjects.map(\.code) == ["B", "A"])
        #expect(b.rank == 1 && a.rank == 2)
    }

    @Test func theWeightsUsedAddUpToTheCombinedScore() throws {
        let result = Aggregation.run(workedExample())
        let a = try #require(result.subjects.first { $0.code == "A" })
        #expect(a.weightsUsed.map(\.group) == ["organisation", "members", "public"])
        #expect(a.groupsLeftOut.isEmpty)
        // B's members are below quorum: organisation and public carry 0.5/0.7 and 0.2/0.7.
        let b = try #require(result.subjects.first { $0.code == "B" })
        #expect(b.weightsUsed.map(\.group) == ["organisation", "public"])
        #expect(abs(b.weightsUsed[0].share - 0.5 / 0.7) < 1e-12 && abs(b.weightsUsed[1].share - 0.2 / 0.7) < 1e-12)
        #expect(b.groupsLeftOut == ["members"])
        for subject in [a, b] {
            let byHand = subject.weightsUsed.reduce(0) { $0 + $1.share * $1.score }
            #expect(abs(byHand - (subject.combinedBeforeBonus ?? -1)) < 1e-9)
        }
    }

    @Test func trimmingStartsAtItsThreshold() {
        func trimmed(_ values: [Double], _ trimming: RoundConfiguration.Trimming, extremes: Int = 2) -> (Int, Double?) {
            let result = ScoreTally(values.shuffled(), extremes: extremes, withSpread: false).trimmed(trimming)
            return (result.kept, result.mean)
        }
        let trimming = RoundConfiguration.Trimming(drop: 1, from: 7)
        #expect(trimmed([1, 2, 3, 4, 5, 6], trimming) == (6, 3.5))
        #expect(trimmed([1, 2, 3, 4, 5, 6, 7], trimming) == (5, 4))
        #expect(trimmed([1, 2, 3, 4, 5, 6, 70], trimming, extremes: 1) == (5, 4))
        #expect(trimmed([1, 2, 3, 4, 5, 6, 7], .none) == (7, 4))
        #expect(trimmed([1, 2, 3, 4, 5, 6, 7, 100], .init(drop: 2, from: 8)) == (4, 4.5))
        #expect(trimmed([], trimming) == (0, nil))
    }

    @Test func talliesAreExactInAnyOrder() {
        // Thirds and tenths are not exact in binary: summed in different orders as doubles they
        // differ in the last bits; as fixed steps they cannot.
        let values = (0..<1000).map { Double($0 % 300) / 3 + 0.1 }
        let forwards = ScoreTally(values, extremes: 1, withSpread: true)
        let backwards = ScoreTally(values.reversed(), extremes: 1, withSpread: true)
        #expect(forwards == backwards)
        #expect(forwards.lowest == [0.1] && forwards.highest == [Double(299) / 3 + 0.1])
        let exactMean = values.reduce(0, +) / 1000
        #expect(abs(forwards.mean! - exactMean) < 1e-9)
        // The same sum in the other direction: the database's sum of the same steps.
        #expect(forwards.sum == values.reversed().reduce(Int128(0)) { $0 + ScoreTally.meanSteps($1) })
        // Equal values have no spread at all, not a rounding error's worth.
        #expect(ScoreTally(Array(repeating: 100.0 / 3, count: 9), extremes: 0, withSpread: true).sampleStandardDeviation == 0)
    }

    @Test func sumsWiderThan64BitsBecomeTheNearestDouble() {
        let twoTo64 = Int128(1) << 64
        // Doubles near 2⁶⁴ are 4,096 apart. Half-way rounds to the even neighbour; one past
        // half-way rounds up only if the bit shifted out below the top 64 still counts (the
        // sticky bit), which a plain shift would lose.
        #expect(ScoreTally.double(twoTo64 + 2048) == 18_446_744_073_709_551_616)
        #expect(ScoreTally.double(twoTo64 + 2049) == 18_446_744_073_709_555_712)
        #expect(ScoreTally.double(twoTo64 + 6144) == 18_446_744_073_709_559_808)
        #expect(ScoreTally.double(-(twoTo64 + 2049)) == -18_446_744_073_709_555_712)
        #expect(ScoreTally.double(Int128(Int64.max) + 1) == 9_223_372_036_854_775_808)
        #expect(ScoreTally.double(.min) == -Double(sign: .plus, exponent: 127, significand: 1))
        #expect(ScoreTally.double(.max) == Double(sign: .plus, exponent: 127, significand: 1))
        // Every width, against the standard library's own conversion.
        var generator = SystemRandomNumberGenerator()
        for width in 1...127 {
            for _ in 0..<200 {
                let bits = Int128(truncatingIfNeeded: UInt128.random(in: 0...UInt128.max, using: &generator) >> (128 - width))
                for value in [bits, -bits] { #expect(ScoreTally.double(value) == Double(value), "\(value)") }
            }
        }
    }

    @Test func twoTalliesAddedAreTheTallyOfTheirResponsesTogether() {
        // Asymmetric on purpose: the first set holds the two lowest scores and one highest, the
        // second the lowest and two highest of the union, a dimension the first lacks, one
        // unscored response and one unscored dimension; a merge that kept one side's extremes,
        // or sorted the highest ascending, or dropped the longer side's dimension, differs.
        let first = [
            ResponseInput(score: 20, dimensions: [30, nil], straightLined: true, satisfied: true),
            ResponseInput(score: 35, dimensions: [90, 10]),
            ResponseInput(score: 99, dimensions: [60, 70], satisfied: false),
            ResponseInput(score: 50, dimensions: [55, 45]),
        ]
        let second = [
            ResponseInput(score: 10, dimensions: [40, 80, 5], satisfied: true),
            ResponseInput(score: 100, dimensions: [100, nil, 7]),
            ResponseInput(score: nil, dimensions: [nil, nil, nil], straightLined: true),
            ResponseInput(score: 100, dimensions: [20, 95, 9]),
            ResponseInput(score: 60, dimensions: [65, 50, 3]),
        ]
        let added = ResponseTally(first, extremes: 3).adding(ResponseTally(second, extremes: 3), keeping: 3)
        #expect(added == ResponseTally(first + second, extremes: 3))
        #expect(added.scores.lowest == [10, 20, 35] && added.scores.highest == [100, 100, 99])
        #expect(added.dimensions.map(\.count) == [8, 6, 4])
        #expect(added.dimensions[2].lowest == [3, 5, 7] && added.dimensions[1].highest == [95, 80, 70])
        #expect(added.responses == 9 && added.straightLined == 2 && added.satisfied == 2 && added.satisfactionAnswered == 3)
        // Added to nothing, a tally is itself.
        #expect(ResponseTally([], extremes: 3).adding(ResponseTally(second, extremes: 3), keeping: 3) == ResponseTally(second, extremes: 3))
    }

    @Test func quorumByCountAndByShare() {
        let members = RoundConfiguration.defaultGroups[.members]!
        let three = Aggregation.groupResult(tally([80, 80, 80]), settings: members, eligible: 6, usesShare: true, anonymityThreshold: 5)
        #expect(three.status == .sufficient)  // 3 of 6 is half
        let threeOfSeven = Aggregation.groupResult(tally([80, 80, 80]), settings: members, eligible: 7, usesShare: true, anonymityThreshold: 5)
        #expect(threeOfSeven.status == .insufficient)  // 3 of 7 is under half
        let two = Aggregation.groupResult(tally([80, 80]), settings: members, eligible: 2, usesShare: true, anonymityThreshold: 5)
        #expect(two.status == .insufficient)  // all of them, but fewer than 3
        let publicGroup = RoundConfiguration.defaultGroups[.public]!
        let nine = Aggregation.groupResult(
            tally(Array(repeating: 100, count: 9)),
            settings: publicGroup,
            eligible: 0,
            usesShare: false,
            anonymityThreshold: 5
        )
        #expect(nine.status == .insufficient)
        #expect(nine.score == 100)  // reported, though it does not count
    }

    @Test func unscoredResponsesAreCountedButNotScored() {
        let members = RoundConfiguration.defaultGroups[.members]!
        let group = Aggregation.groupResult(
            tally([80, nil, 60, nil, 70]),
            settings: members,
            eligible: 5,
            usesShare: true,
            anonymityThreshold: 5
        )
        #expect(group.responses == 5)
        #expect(group.n == 3)
        #expect(group.score == 70)
        #expect(!group.breakdownShown)  // 3 scored, threshold 5
    }

    @Test func spreadAndConfidenceInterval() throws {
        let members = RoundConfiguration.defaultGroups[.members]!
        let group = Aggregation.groupResult(tally([70, 80, 90]), settings: members, eligible: 3, usesShare: true, anonymityThreshold: 3)
        #expect(group.standardDeviation == 10)
        // t(0.975, 2) = 4.302653; half-width 4.302653 · 10 / √3
        #expect(abs(try #require(group.confidenceLow) - (80 - 24.8414)) < 1e-3)
        #expect(abs(try #require(group.confidenceHigh) - (80 + 24.8414)) < 1e-3)
        #expect(group.breakdownShown)
    }

    @Test func studentTQuantilesMatchTheTables() {
        #expect(Statistics.studentT975(degreesOfFreedom: 2500) == Statistics.studentTQuantile(0.975, degreesOfFreedom: 2500))
        for (df, expected) in [(1.0, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423), (100, 1.9840)] {
            #expect(abs(Statistics.studentTQuantile(0.975, degreesOfFreedom: df) - expected) < 5e-4, "df \(df)")
            #expect(Statistics.studentT975(degreesOfFreedom: Int(df)) == Statistics.studentTQuantile(0.975, degreesOfFreedom: df))
        }
    }

    @Test func dimensionsAndSatisfaction() {
        let members = RoundConfiguration.defaultGroups[.members]!
        let input = [
            ResponseInput(score: 80, dimensions: [75, 100], satisfied: true),
            ResponseInput(score: 60, dimensions: [50, nil], satisfied: false),
            ResponseInput(score: 70, dimensions: [100, 50], straightLined: true, satisfied: nil),
        ]
        let group = Aggregation.groupResult(
            ResponseTally(input),
            dimensionKeys: ["thinking", "results"],
            settings: members,
            eligible: 3,
            usesShare: true,
            anonymityThreshold: 3
        )
        #expect(group.dimensions == ["thinking": 75, "results": 75])
        #expect(group.satisfactionRate == 0.5)  // the unscored answer is left out
        #expect(abs(group.straightLinedShare! - 1.0 / 3.0) < 1e-12)
    }

    @Test func deductionFloorsScalingAndBonusCaps() throws {
        let layout = SheetLayout(
            deductions: [.init(key: "d1", maximum: 20), .init(key: "d2", maximum: 30)],
            baselines: ["b1"],
            bonuses: [.init(key: "x1", cap: 3), .init(key: "x2", cap: 10)]
        )
        // Maxima sum to 50: scaled to 100. A loss beyond the maximum floors the item at 0.
        let sheet = try #require(
            Aggregation.sheetResult(
                [SheetInput(evaluator: "e", lost: ["d1": 25, "d2": 10], bonus: ["x1": 5, "x2": 9])],
                layout: layout,
                bonusCap: 10
            )
        )
        #expect(sheet.baseScore == 40)  // (0 + 20) · 100 / 50
        #expect(sheet.bonus == 10)  // x1 capped at 3, + 9 = 12, total cap 10
        // Two evaluators are averaged item by item; one failed baseline fails the item.
        let two = try #require(
            Aggregation.sheetResult(
                [
                    SheetInput(evaluator: "e1", lost: ["d1": 2], bonus: ["x1": 2]),
                    SheetInput(evaluator: "e2", lost: ["d1": 4], failedBaselines: ["b1"]),
                ],
                layout: layout,
                bonusCap: 10
            )
        )
        #expect(two.lost["d1"] == 3)
        #expect(two.baseScore == 94)  // (17 + 30) · 2
        #expect(two.bonus == 1)
        #expect(two.failedBaselines == ["b1"])
        #expect(two.evaluators == 2)
    }

    @Test func requireLeavesASubjectIncomplete() throws {
        var input = workedExample()
        input.configuration.missingGroups = .require
        let result = Aggregation.run(input)
        let b = try #require(result.subjects.first { $0.code == "B" })
        #expect(b.status == .incomplete)
        #expect(b.combined == nil && b.grade == nil && b.rank == nil)
        #expect(result.subjects.first { $0.code == "A" }?.rank == 1)
        #expect(result.subjects.map(\.code) == ["A", "B"])  // the unranked last
    }

    @Test func aSubjectWithNothingSufficientHasNoScore() {
        let input = RoundInput(
            configuration: RoundConfiguration(),
            configurationHash: "",
            sheet: exampleSheet,
            subjects: [SubjectInput(code: "C", name: "C", eligibleMembers: 10, responses: [.members: responses([90])])]
        )
        let c = Aggregation.run(input).subjects[0]
        #expect(c.status == .incomplete)
        #expect(c.groups["organisation"]?.status == .insufficient)
    }

    @Test func roundingIsDecimalRoundingHalfAwayFromZero() {
        #expect(Statistics.rounded2(68.135) == 68.14)  // stored as 68.13499999999999
        #expect(Statistics.rounded2(0.1 * 3 * 227.0 + 0.005) == 68.11)
        #expect(Statistics.rounded2(68.12499999999999) == 68.13)
        #expect(Statistics.rounded2(68.1249) == 68.12)
        #expect(Statistics.rounded2(65.5 / 0.7) == 93.57)
    }

    @Test func vetoCapsTheGradeButNeverRaisesIt() {
        let bands = RoundConfiguration.defaultBands
        #expect(Aggregation.worse("优秀", "一般", bands: bands) == "一般")
        #expect(Aggregation.worse("较差", "一般", bands: bands) == "较差")
        #expect(Aggregation.band(for: 89.996, bands: bands) == "优秀")  // shown as 90.00
        #expect(Aggregation.band(for: 89.994, bands: bands) == "良好")
        #expect(Aggregation.band(for: 0, bands: bands) == "较差")
    }

    /// Subjects with only an organisation sheet, so that each combined score is the base score.
    func sheetsOnly(_ scores: [(String, Double)], quota: Double?) -> RoundResult {
        var configuration = RoundConfiguration()
        configuration.topGradeQuota = quota
        let layout = SheetLayout(deductions: [.init(key: "d", maximum: 100)], baselines: [], bonuses: [])
        let subjects = scores.map { code, score in
            SubjectInput(code: code, name: code, eligibleMembers: 0, sheets: [SheetInput(evaluator: "e", lost: ["d": 100 - score])])
        }
        return Aggregation.run(RoundInput(configuration: configuration, configurationHash: "", sheet: layout, subjects: subjects))
    }

    @Test func theTopGradeQuotaWithTies() {
        // Six graded, quota one third: two keep 优秀. c and b tie on 95; the code decides.
        let result = sheetsOnly([("a", 97), ("b", 95), ("c", 95), ("d", 92), ("e", 85), ("f", 70)], quota: 1.0 / 3.0)
        let grades = Dictionary(uniqueKeysWithValues: result.subjects.map { ($0.code, $0.grade ?? "") })
        #expect(grades == ["a": "优秀", "b": "优秀", "c": "良好", "d": "良好", "e": "良好", "f": "一般"])
        #expect(result.subjects.first { $0.code == "c" }?.droppedByQuota == true)
        #expect(result.subjects.first { $0.code == "c" }?.gradeAfterVeto == "优秀")
        #expect(result.subjects.first { $0.code == "e" }?.droppedByQuota == false)
        // Without a quota all three keep it.
        #expect(sheetsOnly([("a", 97), ("b", 95), ("c", 95)], quota: nil).subjects.allSatisfy { $0.grade == "优秀" })
        // 0.3333 of three is 0.9999: no place. One third exactly is one place.
        #expect(sheetsOnly([("a", 97), ("b", 95), ("c", 93)], quota: 0.3333).subjects.filter { $0.grade == "优秀" }.count == 0)
        #expect(sheetsOnly([("a", 97), ("b", 95), ("c", 93)], quota: 1.0 / 3.0).subjects.filter { $0.grade == "优秀" }.count == 1)
    }

    @Test func rankingIsCompetitionRankingOnShownScores() {
        let result = sheetsOnly([("a", 98.754), ("b", 98.746), ("c", 97), ("d", 99)], quota: nil)
        let ranks = Dictionary(uniqueKeysWithValues: result.subjects.map { ($0.code, $0.rank ?? 0) })
        #expect(ranks == ["d": 1, "a": 2, "b": 2, "c": 4])  // 98.75 and 98.75 tie
        #expect(result.subjects.map(\.code) == ["d", "a", "b", "c"])
    }

    @Test func theSameInputsGiveTheSameBytes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var shuffled = workedExample()
        shuffled.subjects.reverse()
        for index in shuffled.subjects.indices {
            shuffled.subjects[index].responses = workedExampleResponses(shuffled.subjects[index].code).mapValues { ResponseTally($0.reversed()) }
        }
        let first = try encoder.encode(Aggregation.run(workedExample()))
        #expect(try encoder.encode(Aggregation.run(workedExample())) == first)
        #expect(try encoder.encode(Aggregation.run(shuffled)) == first)
    }
}
