import Foundation
import Testing

@testable import KaopingAggregation

@Suite("Round configuration")
struct RoundConfigurationTests {
    @Test func theDefaultsAreTheSpecsAndValid() {
        let configuration = RoundConfiguration()
        #expect(configuration.problems().isEmpty)
        #expect(configuration.groups[.organisation]?.weight == 0.5)
        #expect(configuration.groups[.members]?.weight == 0.3)
        #expect(configuration.groups[.public]?.weight == 0.2)
        #expect(configuration.groups[.members]?.quorum == .init(minimum: 3, share: 0.5))
        #expect(configuration.groups[.public]?.quorum.minimum == 10)
        #expect(configuration.groups[.members]?.trimming == .init(drop: 1, from: 7))
        #expect(configuration.bands.map(\.grade) == ["优秀", "良好", "一般", "较差"])
        #expect(configuration.bands.map(\.minimum) == [90, 80, 60, 0])
        #expect(configuration.vetoGrade == "一般")
        #expect(configuration.bonusCap == 10)
        #expect(configuration.anonymityThreshold == 5)
        #expect(configuration.missingGroups == .renormalise)
    }

    @Test func everyProblemIsNamed() {
        var configuration = RoundConfiguration()
        for group in RoundConfiguration.RaterGroup.allCases { configuration.groups[group]?.weight = 0 }
        configuration.bands = [.init(grade: "好", minimum: 60), .init(grade: "差", minimum: 70)]
        configuration.vetoGrade = "一般"
        configuration.anonymityThreshold = 2
        configuration.topGradeQuota = 1.5
        configuration.groups[.members]?.trimming = .init(drop: 2, from: 4)
        let problems = configuration.problems().map(\.english)
        #expect(configuration.problems().contains { $0.chinese == "匿名阈值不能小于 3，否则可能识别出个人" })
        #expect(problems.contains("the group weights add up to zero: at least one group must count"))
        #expect(problems.contains { $0.hasPrefix("grade bands must go from highest to lowest") })
        #expect(problems.contains("the lowest grade band must start at 0 so that every score gets a grade"))
        #expect(problems.contains("the veto grade '一般' is not one of the grade bands"))
        #expect(problems.contains("the anonymity threshold cannot be below 3, or single raters could be identified"))
        #expect(problems.contains("the top-grade quota must be a share above 0 and at most 1"))
        #expect(problems.contains("members: trimming 2 from each end needs more than 4 responses to leave any"))
    }

    @Test func itEncodesWithGroupNamesAsKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(RoundConfiguration()), as: UTF8.self)
        #expect(json.contains("\"groups\":{\"members\":"))
        #expect(try JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8)) == RoundConfiguration())
    }
}
