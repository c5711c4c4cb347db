import Testing

@testable import KaopingAggregation

@Suite("A branch's record over the years")
struct BranchRecordTests {
    static func year(_ year: Int, _ combined: Double?, _ grade: String?, rank: Int? = nil, ranked: Int = 40) -> BranchRecord.Year {
        BranchRecord.Year(
            year: year,
            roundTitle: "\(year)",
            combined: combined,
            grade: grade,
            rank: rank,
            ranked: ranked,
            belowQuorum: combined == nil,
            groups: [:],
            dimensions: [:],
            businessScore: nil,
            memberForm: nil
        )
    }
    static let grades = RoundConfiguration.defaultBands.map(\.grade)

    @Test func changesAndTheTrendOfTheLastThreeYears() {
        let years = [Self.year(2022, 70, "一般"), Self.year(2023, 80, "良好"), Self.year(2024, nil, nil), Self.year(2025, 84, "良好")]
        #expect(BranchRecord.changes(years) == [nil, 10, nil, nil])
        // 2022 → 2023 → 2025: the slope is by year, so the missing 2024 counts as a gap.
        let (trend, slope) = try! #require(BranchRecord.trend(years))
        #expect(trend == .rising)
        #expect(abs(slope - 30.0 / 7.0) < 1e-9)
        #expect(BranchRecord.trend([Self.year(2024, 80, "良好"), Self.year(2025, 79.5, "一般"), Self.year(2026, 80.4, "良好")])?.trend == .steady)
        #expect(BranchRecord.trend([Self.year(2024, 90, "优秀"), Self.year(2025, 85, "良好"), Self.year(2026, 80, "良好")])?.trend == .falling)
        #expect(BranchRecord.trend([Self.year(2025, 90, "优秀"), Self.year(2026, 85, "良好")]) == nil)
        #expect(Self.year(2026, 90, "优秀", rank: 1, ranked: 40).rankShare == 0.025)
    }

    @Test func rectificationAndCommendationNeedConsecutiveYears() {
        #expect(BranchRecord.watch([Self.year(2025, 50, "较差"), Self.year(2026, nil, nil)], grades: Self.grades) == .rectification)
        #expect(BranchRecord.watch([Self.year(2024, 50, "较差"), Self.year(2026, 55, "较差")], grades: Self.grades) == nil)  // 2025 missing
        #expect(BranchRecord.watch([Self.year(2025, 50, "较差"), Self.year(2026, 65, "一般")], grades: Self.grades) == nil)
        let top = [Self.year(2024, 95, "优秀"), Self.year(2025, 92, "优秀"), Self.year(2026, 91, "优秀")]
        #expect(BranchRecord.watch(top, grades: Self.grades) == .commendation)
        #expect(BranchRecord.watch(Array(top.suffix(2)), grades: Self.grades) == nil)
        #expect(BranchRecord.watch([Self.year(2023, 95, "优秀")] + top.suffix(2) + [Self.year(2026, 85, "良好")], grades: Self.grades) == nil)
    }
}
