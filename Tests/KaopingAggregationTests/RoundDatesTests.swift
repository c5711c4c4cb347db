import Foundation
import Testing

@testable import KaopingAggregation

@Suite("Round dates")
struct RoundDatesTests {
    static let beijing = TimeZone(identifier: "Asia/Shanghai")!

    /// 2026-12-31 23:30 in Beijing is 15:30 UTC: still 2026 there, though near 2027.
    static func beijing(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = beijing
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    @Test func aCloseInTheYearOrTheNextIsFineAndOutsideIsAskedAbout() {
        func warnings(_ year: Int, _ closes: Date) -> [RoundDateWarning] {
            RoundDates.warnings(year: year, closesAt: closes, performanceYear: year, yearsWithResults: nil, timeZone: Self.beijing)
        }
        #expect(warnings(2026, Self.beijing(2026, 1, 1, 0, 0)) == [])
        #expect(warnings(2026, Self.beijing(2027, 12, 31, 23, 59)) == [])
        // The limits: the last minute of the year before, the first of the year after next.
        #expect(warnings(2026, Self.beijing(2025, 12, 31, 23, 59)) == [.closesOutsideYear(year: 2026, closingYear: 2025)])
        #expect(warnings(2026, Self.beijing(2028, 1, 1, 0, 0)) == [.closesOutsideYear(year: 2026, closingYear: 2028)])
        // The year is Beijing's: 2027-01-01 00:30 there is still 2026 in UTC.
        #expect(warnings(2027, Self.beijing(2027, 1, 1, 0, 30)) == [])
        #expect(warnings(2027, Self.beijing(2026, 12, 31, 23, 30)) == [.closesOutsideYear(year: 2027, closingYear: 2026)])
        #expect(RoundDates.warnings(year: 2026, closesAt: nil, performanceYear: 2026, yearsWithResults: nil, timeZone: Self.beijing) == [])
    }

    @Test func aBusinessYearWithoutResultsIsNamedOnlyWhereResultsAreKept() {
        let closes = Self.beijing(2027, 1, 15)
        #expect(
            RoundDates.warnings(year: 2026, closesAt: closes, performanceYear: 2026, yearsWithResults: [2024, 2025], timeZone: Self.beijing)
                == [.noPerformanceResults(year: 2026)]
        )
        // The round may read another year's results: that year is the one checked.
        #expect(
            RoundDates.warnings(year: 2026, closesAt: closes, performanceYear: 2025, yearsWithResults: [2024, 2025], timeZone: Self.beijing) == []
        )
        // No units, no results to miss.
        #expect(RoundDates.warnings(year: 2026, closesAt: closes, performanceYear: 2026, yearsWithResults: nil, timeZone: Self.beijing) == [])
    }

    @Test func theProposedCloseFollowsTheYear() {
        let now = Self.beijing(2026, 12, 3, 9)
        // This year and earlier ones: two weeks on, at 18:00.
        #expect(RoundDates.proposedClosing(year: 2026, now: now, timeZone: Self.beijing) == Self.beijing(2026, 12, 17, 18))
        #expect(RoundDates.proposedClosing(year: 2025, now: now, timeZone: Self.beijing) == Self.beijing(2026, 12, 17, 18))
        // A year not yet begun two weeks from now: 15 December of that year.
        #expect(RoundDates.proposedClosing(year: 2027, now: now, timeZone: Self.beijing) == Self.beijing(2027, 12, 15, 18))
        // Two weeks from 25 December reach into 2027: a 2027 round is then proposed the two weeks.
        let late = Self.beijing(2026, 12, 25, 9)
        #expect(RoundDates.proposedClosing(year: 2027, now: late, timeZone: Self.beijing) == Self.beijing(2027, 1, 8, 18))
    }
}
