import Foundation

/// Something about a round's dates that is allowed but usually a slip, which the administrator
/// confirms before the round is stored (docs/rounds.md, "Dates and years").
public enum RoundDateWarning: Equatable, Sendable {
    /// The round closes before its year begins, or after the year that follows it: a year of
    /// work is evaluated during that year or early in the next.
    case closesOutsideYear(year: Int, closingYear: Int)
    /// The round is read with a year of business results of which none are loaded yet.
    case noPerformanceResults(year: Int)
}

/// The rules for a round's dates, kept apart from any page or database.
public enum RoundDates {
    /// The years in which a round of `year` is expected to close.
    public static func expectedClosingYears(of year: Int) -> ClosedRange<Int> { year...(year + 1) }

    /// What to ask the administrator to confirm. `yearsWithResults` is nil for an office that
    /// keeps no business results at all, which is then never told they are missing.
    public static func warnings(
        year: Int,
        closesAt: Date?,
        performanceYear: Int,
        yearsWithResults: Set<Int>?,
        timeZone: TimeZone
    ) -> [RoundDateWarning] {
        var warnings: [RoundDateWarning] = []
        if let closesAt {
            let closingYear = calendar(timeZone).component(.year, from: closesAt)
            if !expectedClosingYears(of: year).contains(closingYear) {
                warnings.append(.closesOutsideYear(year: year, closingYear: closingYear))
            }
        }
        if let yearsWithResults, !yearsWithResults.contains(performanceYear) {
            warnings.append(.noPerformanceResults(year: performanceYear))
        }
        return warnings
    }

    /// The closing time a new round of `year` is offered: two weeks from now at 18:00, or, for
    /// a year that has not begun two weeks from now, 18:00 on 15 December of that year.
    public static func proposedClosing(year: Int, now: Date, timeZone: TimeZone) -> Date {
        let calendar = calendar(timeZone)
        let inTwoWeeks = calendar.date(byAdding: .day, value: 14, to: now) ?? now
        let twoWeeks = calendar.date(bySettingHour: 18, minute: 0, second: 0, of: inTwoWeeks) ?? inTwoWeeks
        guard calendar.component(.year, from: twoWeeks) < year else { return twoWeeks }
        return calendar.date(from: DateComponents(year: year, month: 12, day: 15, hour: 18)) ?? twoWeeks
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
