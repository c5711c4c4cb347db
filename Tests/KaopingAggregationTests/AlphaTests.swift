import Foundation
import Testing

@testable import KaopingAggregation

/// Krippendorff's alpha against the independent `krippendorff` package (PyPI); the reference
/// values are committed in Fixtures/alpha.json with the script that made them.
@Suite("Krippendorff's alpha")
struct AlphaTests {
    struct Case: Decodable {
        let name: String
        let units: [[Double]]
        let alpha: Double
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/alpha.json")
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func theFixturesAreThere() {
        #expect(Self.cases.count == 6)
    }

    @Test(arguments: cases.map(\.name))
    func matchesTheReferenceImplementation(_ name: String) throws {
        let reference = try #require(Self.cases.first { $0.name == name })
        let alpha = try #require(Krippendorff.intervalAlpha(reference.units))
        #expect(abs(alpha - reference.alpha) < 1e-9, "\(name): \(alpha) vs \(reference.alpha)")
    }

    @Test func krippendorffsOwnExampleIsThePublishedFigure() throws {
        let example = try #require(Self.cases.first { $0.name == "krippendorff-2004" })
        #expect(try #require(Krippendorff.intervalAlpha(example.units)).rounded(toPlaces: 3) == 0.849)
    }

    @Test func undefinedWithoutPairsOrSpread() {
        #expect(Krippendorff.intervalAlpha([[80], [90]]) == nil)  // no unit has two values
        #expect(Krippendorff.intervalAlpha([[80, 80], [80, 80]]) == nil)  // no variation at all
    }

    @Test func theRoundReportsAlphaPerGroup() throws {
        let result = Aggregation.run(workedExample())
        // Public answers are all 75 within A and all 90 within B: perfect agreement.
        #expect(result.diagnostics.alpha["public"] == 1)
        #expect(result.diagnostics.alpha["organisation"] == nil)  // one evaluator per branch
        let members = try #require(result.diagnostics.alpha["members"])
        #expect(members == Krippendorff.intervalAlpha([[100, 90, 85, 80, 80, 75, 70, 20], [90, 95]]))
        #expect(members < 0.667)  // the 20 among A's answers: members disagree
        #expect(result.diagnostics.lowAgreement == ["members"])
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
