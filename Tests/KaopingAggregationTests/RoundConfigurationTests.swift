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
        let problems = configuration.problems()
        let keys = problems.map(\.key)
        #expect(keys.contains("config_anonymity"))
        #expect(keys.contains("config_zero_weights"))
        #expect(problems.contains(.init("config_bands_order", ["higher": "好", "higher_minimum": "60.0", "lower": "差", "lower_minimum": "70.0"])))
        #expect(keys.contains("config_lowest_band"))
        #expect(problems.contains(.init("config_veto_grade", ["grade": "一般"])))
        #expect(keys.contains("config_quota"))
        #expect(problems.contains(.init("config_trimming_too_early", ["group": "members", "drop": "2", "needed": "4"])))
        // Named, never worded: the server's catalogue says them (Tests/KaopingServerTests).
        #expect(problems.map(\.description).contains("config_trimming_too_early drop=2 group=members needed=4"))
    }

    @Test func itEncodesWithGroupNamesAsKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(RoundConfiguration()), as: UTF8.self)
        #expect(json.contains("\"groups\":{\"members\":"))
        #expect(try JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8)) == RoundConfiguration())
    }
}
