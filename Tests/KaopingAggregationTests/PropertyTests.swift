import Foundation
import PropertyBased
import Testing

@testable import KaopingAggregation

/// One generated subject: member and public answers, points lost and bonus on the sheet, and
/// whether a baseline failed.
struct GeneratedSubject: Sendable {
    var members: [Double]
    var publicAnswers: [Double]
    var lost: Int
    var bonus: Int
    var failed: Bool
}

enum Generated {
    static let memberAnswer = Gen.int(in: 0...4).map { Double($0) * 25 }
    static let publicAnswer = Gen.int(in: 0...2).map { [55.0, 75, 100][$0] }
    static let subject = zip(
        memberAnswer.array(of: 0...12),
        publicAnswer.array(of: 0...14),
        Gen.int(in: 0...40),
        Gen.int(in: 0...8),
        Gen.bool(0.2)
    ).map { GeneratedSubject(members: $0, publicAnswers: $1, lost: $2, bonus: $3, failed: $4) }
    static let subjects = subject.array(of: 1...8)
    static let seed = Gen.int(in: 0...1_000_000)

    static func input(_ subjects: [GeneratedSubject], configuration: RoundConfiguration = RoundConfiguration()) -> RoundInput {
        RoundInput(
            configuration: configuration,
            configurationHash: "h",
            sheet: exampleSheet,
            subjects: subjects.enumerated().map { index, subject in
                SubjectInput(
                    code: String(format: "b%02d", index),
                    name: "支部 \(index)",
                    eligibleMembers: 10,
                    responses: [.members: responses(subject.members), .public: responses(subject.publicAnswers)],
                    sheets: [
                        SheetInput(
                            evaluator: "e",
                            lost: ["d1": Double(subject.lost)],
                            failedBaselines: subject.failed ? ["b1"] : [],
                            bonus: ["x1": Double(subject.bonus)]
                        )
                    ]
                )
            }
        )
    }
}

extension Generated {
    /// The method fed piece by piece, set up for `input`'s round and subjects.
    static func scoring(_ input: RoundInput) -> RoundScoring {
        RoundScoring(
            configuration: input.configuration,
            configurationHash: input.configurationHash,
            sheet: input.sheet,
            subjects: input.subjects.map { RoundScoring.Subject(code: $0.code, name: $0.name, eligibleMembers: $0.eligibleMembers) }
        )
    }
}

/// A small deterministic generator for shuffling (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func encoded(_ result: RoundResult) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(result)
}

@Suite("Aggregation properties")
struct PropertyTests {
    @Test func theOrderOfSubjectsAndResponsesDoesNotMatter() async {
        await propertyCheck(input: Generated.subjects, Generated.seed) { subjects, seed in
            let input = Generated.input(subjects)
            var random = SplitMix(state: UInt64(seed))
            let answersShuffled = subjects.map { subject in
                var subject = subject
                subject.members.shuffle(using: &random)
                subject.publicAnswers.shuffle(using: &random)
                return subject
            }
            var shuffled = Generated.input(answersShuffled)
            shuffled.subjects.shuffle(using: &random)
            let first = try? encoded(Aggregation.run(input))
            let second = try? encoded(Aggregation.run(shuffled))
            #expect(first != nil && first == second)
        }
    }

    @Test func piecesInAnyOrderGiveTheSameBytes() async throws {
        await propertyCheck(input: Generated.subjects, Generated.seed) { subjects, seed in
            let input = Generated.input(subjects)
            // Every subject's tallies and sheets as separate pieces, dealt in a random order: the
            // server adds one group of every branch, then the next, then the sheets.
            var pieces: [RoundScoring.Piece] = []
            for (index, subject) in input.subjects.enumerated() {
                pieces += subject.responses.map { .tally($0.value, of: $0.key, subject: index) }
                pieces.append(.sheets(subject.sheets, subject: index))
            }
            var random = SplitMix(state: UInt64(seed))
            pieces.shuffle(using: &random)
            var scoring = Generated.scoring(input)
            for piece in pieces { scoring.add(piece) }
            let whole = try? encoded(Aggregation.run(input))
            let streamed = try? encoded(scoring.result())
            #expect(whole != nil && whole == streamed)
        }
    }

    @Test func subjectsCompletedAsTheirSheetsArriveGiveTheSameBytes() async throws {
        await propertyCheck(input: Generated.subjects, Generated.seed) { subjects, seed in
            // Every third subject without a sheet: completed when a later one's sheets come.
            var input = Generated.input(subjects)
            for index in input.subjects.indices where index % 3 == 1 { input.subjects[index].sheets = [] }
            // As the server reads a round: every survey tally in any order, then the sheets in
            // subject order, each subject up to the one whose sheets just came declared complete.
            var tallies: [RoundScoring.Piece] = []
            for (index, subject) in input.subjects.enumerated() {
                tallies += subject.responses.map { .tally($0.value, of: $0.key, subject: index) }
            }
            var random = SplitMix(state: UInt64(seed))
            tallies.shuffle(using: &random)
            var scoring = Generated.scoring(input)
            for piece in tallies { scoring.add(piece) }
            for (index, subject) in input.subjects.enumerated() where !subject.sheets.isEmpty {
                scoring.add(subject.sheets, toSubject: index)
                scoring.complete(through: index)
            }
            let whole = try? encoded(Aggregation.run(input))
            let streamed = try? encoded(scoring.result())
            #expect(whole != nil && whole == streamed)
        }
    }

    @Test func scalingAllWeightsChangesNothing() async {
        await propertyCheck(input: Generated.subjects, Gen.int(in: 1...1000)) { subjects, factor in
            let plain = Aggregation.run(Generated.input(subjects))
            var configuration = RoundConfiguration()
            for group in RoundConfiguration.RaterGroup.allCases {
                configuration.groups[group]?.weight *= Double(factor) / 7
            }
            let scaled = Aggregation.run(Generated.input(subjects, configuration: configuration))
            for (left, right) in zip(plain.subjects, scaled.subjects) {
                #expect(left.code == right.code)
                #expect(left.grade == right.grade)
                #expect(left.rank == right.rank)
                #expect(Statistics.rounded2(left.combined ?? -1) == Statistics.rounded2(right.combined ?? -1))
            }
        }
    }

    @Test func raisingOneAnswerNeverLowersTheGroupScore() async {
        let answers = Generated.memberAnswer.array(of: 1...15)
        await propertyCheck(input: answers, Gen.int(in: 0...100), Gen.int(in: 1...4)) { scores, pick, steps in
            let settings = RoundConfiguration.defaultGroups[.members]!
            let before = Aggregation.groupResult(tally(scores), settings: settings, eligible: 0, usesShare: true, anonymityThreshold: 5)
            var raised = scores
            let index = pick % scores.count
            raised[index] = min(100, raised[index] + Double(steps) * 25)
            let after = Aggregation.groupResult(tally(raised), settings: settings, eligible: 0, usesShare: true, anonymityThreshold: 5)
            #expect(after.score! >= before.score! - 1e-12)
        }
    }

    @Test func scoresStayWithin0And100BeforeBonus() async {
        await propertyCheck(input: Generated.subjects) { subjects in
            for subject in Aggregation.run(Generated.input(subjects)).subjects {
                for group in subject.groups.values {
                    if let score = group.score { #expect(score >= 0 && score <= 100) }
                    for value in group.dimensions.values { #expect(value >= 0 && value <= 100) }
                }
                if let combined = subject.combinedBeforeBonus { #expect(combined >= 0 && combined <= 100) }
                #expect(subject.bonus >= 0 && subject.bonus <= 10)
                if let rank = subject.rank { #expect(rank >= 1 && rank <= subjects.count) }
                #expect((subject.rank == nil) == (subject.combined == nil))
            }
        }
    }
}
