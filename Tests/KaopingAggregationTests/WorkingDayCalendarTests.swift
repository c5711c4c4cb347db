import Foundation
import Testing

@testable import KaopingAggregation

@Suite("Working-day calendar")
struct WorkingDayCalendarTests {
    static let beijing = TimeZone(identifier: "Asia/Shanghai")!

    /// An instant written in UTC. Beijing is UTC+8 all year, so 18:00 there is 10:00Z: the
    /// expected ends below are worked out by hand, not by the code under test.
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func day(_ text: String) -> CivilDay { CivilDay(text)! }

    static func days(_ texts: String...) -> [CivilDay] { texts.map(day) }

    /// Foundation's own Gregorian calendar, to check the hand-rolled day arithmetic against.
    static let gregorian: Foundation.Calendar = {
        var calendar = Foundation.Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func foundationDate(_ text: String) -> Date { utc(text + "T00:00:00Z") }

    static func foundationText(_ date: Date) -> String {
        let parts = gregorian.dateComponents([.year, .month, .day], from: date)
        func padded(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.year!)-\(padded(parts.month!))-\(padded(parts.day!))"
    }

    /// Every day from `first` to `last` as Foundation steps them.
    static func foundationDays(_ first: String, _ last: String) -> [String] {
        var date = foundationDate(first)
        var result: [String] = []
        while date <= foundationDate(last) {
            result.append(foundationText(date))
            date = gregorian.date(byAdding: .day, value: 1, to: date)!
        }
        return result
    }

    /// Saturday or Sunday by Foundation's count (1 is Sunday, 7 Saturday).
    static func foundationWeekend(_ text: String) -> Bool {
        [1, 7].contains(gregorian.component(.weekday, from: foundationDate(text)))
    }

    static let shippedText: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("Sources/KaopingServer/Resources/calendar/cn-working-days.txt")
        return try! String(contentsOf: file, encoding: .utf8)
    }()

    static let shipped: WorkingDayCalendar = WorkingDayCalendar(entries: try! WorkingDayCalendar.parse(shippedText).get())

    static func problems(_ text: String) -> [WorkingDayCalendar.Problem] {
        switch WorkingDayCalendar.parse(text) {
        case .success: []
        case .failure(let failure): failure.problems
        }
    }

    static func calendar(_ text: String) -> WorkingDayCalendar { WorkingDayCalendar(entries: try! WorkingDayCalendar.parse(text).get()) }

    // MARK: The shipped file

    @Test func theShippedFileIsTheStateCouncilsNotices() throws {
        let entries = try WorkingDayCalendar.parse(Self.shippedText).get()
        #expect(WorkingDayCalendar(entries: entries).years == [2024, 2025, 2026])
        // The notices, as given in the brief (first day, last day, kind, name).
        let notices: [(String, String, String, String)] = [
            ("2024-01-01", "2024-01-01", "休", "元旦"),
            ("2024-02-10", "2024-02-17", "休", "春节"), ("2024-02-04", "2024-02-04", "班", "春节调休"),
            ("2024-02-18", "2024-02-18", "班", "春节调休"),
            ("2024-04-04", "2024-04-06", "休", "清明节"), ("2024-04-07", "2024-04-07", "班", "清明节调休"),
            ("2024-05-01", "2024-05-05", "休", "劳动节"), ("2024-04-28", "2024-04-28", "班", "劳动节调休"),
            ("2024-05-11", "2024-05-11", "班", "劳动节调休"),
            ("2024-06-10", "2024-06-10", "休", "端午节"),
            ("2024-09-15", "2024-09-17", "休", "中秋节"), ("2024-09-14", "2024-09-14", "班", "中秋节调休"),
            ("2024-10-01", "2024-10-07", "休", "国庆节"), ("2024-09-29", "2024-09-29", "班", "国庆节调休"),
            ("2024-10-12", "2024-10-12", "班", "国庆节调休"),
            ("2025-01-01", "2025-01-01", "休", "元旦"),
            ("2025-01-28", "2025-02-04", "休", "春节"), ("2025-01-26", "2025-01-26", "班", "春节调休"),
            ("2025-02-08", "2025-02-08", "班", "春节调休"),
            ("2025-04-04", "2025-04-06", "休", "清明节"),
            ("2025-05-01", "2025-05-05", "休", "劳动节"), ("2025-04-27", "2025-04-27", "班", "劳动节调休"),
            ("2025-05-31", "2025-06-02", "休", "端午节"),
            ("2025-10-01", "2025-10-08", "休", "国庆节、中秋节"), ("2025-09-28", "2025-09-28", "班", "国庆节、中秋节调休"),
            ("2025-10-11", "2025-10-11", "班", "国庆节、中秋节调休"),
            ("2026-01-01", "2026-01-03", "休", "元旦"), ("2026-01-04", "2026-01-04", "班", "元旦调休"),
            ("2026-02-15", "2026-02-23", "休", "春节"), ("2026-02-14", "2026-02-14", "班", "春节调休"),
            ("2026-02-28", "2026-02-28", "班", "春节调休"),
            ("2026-04-04", "2026-04-06", "休", "清明节"),
            ("2026-05-01", "2026-05-05", "休", "劳动节"), ("2026-05-09", "2026-05-09", "班", "劳动节调休"),
            ("2026-06-19", "2026-06-21", "休", "端午节"),
            ("2026-09-25", "2026-09-27", "休", "中秋节"),
            ("2026-10-01", "2026-10-07", "休", "国庆节"), ("2026-09-20", "2026-09-20", "班", "国庆节调休"),
            ("2026-10-10", "2026-10-10", "班", "国庆节调休"),
        ]
        let expected = notices.flatMap { first, last, kind, name in Self.foundationDays(first, last).map { "\($0) \(kind) \(name)" } }
        let listed = entries.map { "\($0.day) \($0.kind.rawValue) \($0.name)" }
        #expect(listed.sorted() == expected.sorted())
        // Counted off the notices by hand: 休 1+8+3+5+1+3+7, 1+8+3+5+3+8, 3+9+3+5+3+3+7 days.
        func counts(_ kind: WorkingDayCalendar.Kind) -> [Int] {
            [2024, 2025, 2026].map { year in entries.filter { $0.day.year == year && $0.kind == kind }.count }
        }
        #expect(counts(.holiday) == [28, 28, 33])
        #expect(counts(.workday) == [8, 5, 6])
    }

    @Test func everyMakeUpDayOfTheShippedFileIsOnAWeekend() throws {
        let workdays = try WorkingDayCalendar.parse(Self.shippedText).get().filter { $0.kind == .workday }
        #expect(workdays.count == 19)
        for entry in workdays {
            #expect(Self.foundationWeekend(entry.day.description), "\(entry.day) \(entry.name)")
            #expect(Self.shipped.isWorkingDay(entry.day))
        }
    }

    @Test func theShippedHolidaysAreDaysOff() {
        // A weekday holiday, a weekend day inside a holiday, and the weekday after a holiday.
        #expect(Self.shipped.isWorkingDay(Self.day("2026-10-08")))
        #expect(!Self.shipped.isWorkingDay(Self.day("2026-10-07")))
        #expect(!Self.shipped.isWorkingDay(Self.day("2026-10-04")))
        #expect(!Self.shipped.isWorkingDay(Self.day("2025-10-08")))
        #expect(Self.shipped.isWorkingDay(Self.day("2024-10-08")))
        // An ordinary Saturday and Monday.
        #expect(!Self.shipped.isWorkingDay(Self.day("2026-12-05")))
        #expect(Self.shipped.isWorkingDay(Self.day("2026-12-07")))
    }

    // MARK: Days

    @Test func onlyRealDaysAreRead() {
        #expect(CivilDay("2026-02-30") == nil)
        #expect(CivilDay("2025-02-29") == nil)
        #expect(CivilDay("1900-02-29") == nil)
        #expect(CivilDay("2024-02-29") != nil)
        #expect(CivilDay("2000-02-29") != nil)
        #expect(CivilDay("2026-04-31") == nil)
        #expect(CivilDay("2026-13-01") == nil)
        #expect(CivilDay("2026-00-10") == nil)
        #expect(CivilDay("2026-1-01") == nil)
        #expect(CivilDay("2026-01-01T00:00") == nil)
        #expect(CivilDay("2026/01/01") == nil)
        #expect(CivilDay("") == nil)
        #expect(CivilDay("2026-12-31") == CivilDay(year: 2026, month: 12, day: 31))
        #expect(CivilDay("0999-01-05")?.description == "0999-01-05")
        #expect(CivilDay(year: 2026, month: 3, day: 7)?.description == "2026-03-07")
        #expect(CivilDay("2026-12-31")! < CivilDay("2027-01-01")!)
        #expect(CivilDay("2026-02-28")! < CivilDay("2026-03-01")!)
    }

    @Test func daysStepAndFallOnWeekendsAsFoundationSays() {
        // Four years, a leap year among them, stepped one day at a time.
        let expected = Self.foundationDays("2023-12-25", "2028-03-05")
        var day = Self.day("2023-12-25")
        for text in expected {
            #expect(day.description == text)
            #expect(day.isWeekend == Self.foundationWeekend(text), "\(text)")
            day = day.adding(days: 1)
        }
        #expect(Self.day("2026-03-01").adding(days: -1) == Self.day("2026-02-28"))
        #expect(Self.day("2024-03-01").adding(days: -1) == Self.day("2024-02-29"))
        #expect(Self.day("2026-12-31").adding(days: 1) == Self.day("2027-01-01"))
        #expect(Self.day("2026-01-01").adding(days: 365) == Self.day("2027-01-01"))
    }

    @Test func aDayIsTheOfficesDayAndItsHoursAreTheOfficesHours() {
        // 16:30Z on New Year's Eve is already 00:30 on 1 January in Beijing.
        #expect(CivilDay(Self.utc("2026-12-31T16:30:00Z"), in: Self.beijing) == Self.day("2027-01-01"))
        #expect(CivilDay(Self.utc("2026-12-31T15:59:00Z"), in: Self.beijing) == Self.day("2026-12-31"))
        #expect(CivilDay(Self.utc("2026-12-31T16:30:00Z"), in: TimeZone(identifier: "UTC")!) == Self.day("2026-12-31"))
        #expect(Self.day("2026-12-11").date(hour: 18, minute: 0, in: Self.beijing) == Self.utc("2026-12-11T10:00:00Z"))
        #expect(Self.day("2027-01-01").date(hour: 7, minute: 30, in: Self.beijing) == Self.utc("2026-12-31T23:30:00Z"))
    }

    // MARK: Counting working days

    @Test func aPlainWeekEndsOnFridayEvening() {
        let period = Self.shipped.end(afterWorkingDays: 5, from: Self.utc("2026-12-07T01:00:00Z"), timeZone: Self.beijing)
        #expect(period.end == Self.utc("2026-12-11T10:00:00Z"))
        #expect(period.days == Self.days("2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"))
        #expect(period.unknownYears == [])
        // One day fewer ends a day earlier.
        let four = Self.shipped.end(afterWorkingDays: 4, from: Self.utc("2026-12-07T01:00:00Z"), timeZone: Self.beijing)
        #expect(four.end == Self.utc("2026-12-10T10:00:00Z"))
    }

    @Test func anAfternoonStartCountsFromTheNextWorkingDay() {
        // Monday 14:00: Tuesday to Friday and the next Monday.
        let period = Self.shipped.end(afterWorkingDays: 5, from: Self.utc("2026-12-07T06:00:00Z"), timeZone: Self.beijing)
        #expect(period.end == Self.utc("2026-12-14T10:00:00Z"))
        #expect(period.days == Self.days("2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14"))
    }

    @Test func aWeekendStartCountsFromMonday() {
        // Saturday 10:00.
        let saturday = Self.shipped.end(afterWorkingDays: 3, from: Self.utc("2026-12-05T02:00:00Z"), timeZone: Self.beijing)
        #expect(saturday.days == Self.days("2026-12-07", "2026-12-08", "2026-12-09"))
        #expect(saturday.end == Self.utc("2026-12-09T10:00:00Z"))
        // Sunday 08:00, one day.
        let sunday = Self.shipped.end(afterWorkingDays: 1, from: Self.utc("2026-12-06T00:00:00Z"), timeZone: Self.beijing)
        #expect(sunday.days == Self.days("2026-12-07"))
        #expect(sunday.end == Self.utc("2026-12-07T10:00:00Z"))
    }

    @Test func theNationalDayHolidaysAreSkippedAndItsMakeUpDaysCounted() {
        // Monday 28 September 09:00; 1–7 October off; Thursday 8 October is worked; Saturday
        // 10 October is a make-up day.
        let start = Self.utc("2026-09-28T01:00:00Z")
        let five = Self.shipped.end(afterWorkingDays: 5, from: start, timeZone: Self.beijing)
        #expect(five.days == Self.days("2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09"))
        #expect(five.end == Self.utc("2026-10-09T10:00:00Z"))
        let six = Self.shipped.end(afterWorkingDays: 6, from: start, timeZone: Self.beijing)
        #expect(six.days == Self.days("2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"))
        #expect(six.end == Self.utc("2026-10-10T10:00:00Z"))
        // A start on Sunday 20 September, a make-up day, at 09:00 counts that Sunday.
        let sunday = Self.shipped.end(afterWorkingDays: 1, from: Self.utc("2026-09-20T01:00:00Z"), timeZone: Self.beijing)
        #expect(sunday.days == Self.days("2026-09-20"))
        #expect(sunday.end == Self.utc("2026-09-20T10:00:00Z"))
        // A start on a weekday holiday, Thursday 1 October at 09:00, counts from 8 October.
        let holiday = Self.shipped.end(afterWorkingDays: 1, from: Self.utc("2026-10-01T01:00:00Z"), timeZone: Self.beijing)
        #expect(holiday.days == Self.days("2026-10-08"))
        #expect(holiday.end == Self.utc("2026-10-08T10:00:00Z"))
    }

    @Test func theSpringFestivalIsSkipped() {
        // Friday 13 February 10:00; Saturday 14th is worked; 15th–23rd off.
        let period = Self.shipped.end(afterWorkingDays: 5, from: Self.utc("2026-02-13T02:00:00Z"), timeZone: Self.beijing)
        #expect(period.days == Self.days("2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25", "2026-02-26"))
        #expect(period.end == Self.utc("2026-02-26T10:00:00Z"))
    }

    @Test func noonDecidesWhetherTheStartsDayCounts() {
        func one(_ start: String) -> WorkingDayCalendar.Period {
            Self.shipped.end(afterWorkingDays: 1, from: Self.utc(start), timeZone: Self.beijing)
        }
        // Monday 7 December at 00:00, 11:59 and 12:00 in Beijing.
        #expect(one("2026-12-06T16:00:00Z").end == Self.utc("2026-12-07T10:00:00Z"))
        #expect(one("2026-12-07T03:59:00Z").end == Self.utc("2026-12-07T10:00:00Z"))
        #expect(one("2026-12-07T03:59:00Z").days == Self.days("2026-12-07"))
        #expect(one("2026-12-07T04:00:00Z").end == Self.utc("2026-12-08T10:00:00Z"))
        #expect(one("2026-12-07T04:00:00Z").days == Self.days("2026-12-08"))
        // Friday noon: the next working day is Monday.
        #expect(one("2026-12-11T04:00:00Z").end == Self.utc("2026-12-14T10:00:00Z"))
        // Fewer than one working day is one.
        #expect(Self.shipped.end(afterWorkingDays: 0, from: Self.utc("2026-12-07T01:00:00Z"), timeZone: Self.beijing).days == Self.days("2026-12-07"))
    }

    @Test func noonIsTheOfficesNoon() {
        // 11:00Z on Monday is 11:00 in UTC but 19:00 in Beijing.
        let start = Self.utc("2026-12-07T11:00:00Z")
        let utc = TimeZone(identifier: "UTC")!
        #expect(Self.shipped.end(afterWorkingDays: 1, from: start, timeZone: utc).end == Self.utc("2026-12-07T18:00:00Z"))
        #expect(Self.shipped.end(afterWorkingDays: 1, from: start, timeZone: Self.beijing).end == Self.utc("2026-12-08T10:00:00Z"))
    }

    @Test func aYearTheCalendarDoesNotKnowIsCountedMondayToFridayAndNamed() {
        // Monday 28 December 2026 09:00; 1 January 2027, a Friday, is counted as worked.
        let period = Self.shipped.end(afterWorkingDays: 5, from: Self.utc("2026-12-28T01:00:00Z"), timeZone: Self.beijing)
        #expect(period.days == Self.days("2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"))
        #expect(period.end == Self.utc("2027-01-01T10:00:00Z"))
        #expect(period.unknownYears == [2027])
        // Four days stay in 2026.
        #expect(Self.shipped.end(afterWorkingDays: 4, from: Self.utc("2026-12-28T01:00:00Z"), timeZone: Self.beijing).unknownYears == [])
        // A start in an unknown year names it though no day of it is counted: Sunday 31
        // December 2023, then 1 January 2024 is a holiday.
        let fromUnknown = Self.shipped.end(afterWorkingDays: 1, from: Self.utc("2023-12-31T02:00:00Z"), timeZone: Self.beijing)
        #expect(fromUnknown.days == Self.days("2024-01-02"))
        #expect(fromUnknown.unknownYears == [2023])
        // An empty calendar knows no year.
        let none = WorkingDayCalendar(entries: []).end(afterWorkingDays: 5, from: Self.utc("2026-12-28T01:00:00Z"), timeZone: Self.beijing)
        #expect(none.unknownYears == [2026, 2027])
        #expect(none.days == period.days)
    }

    // MARK: Reading and writing

    @Test func entriesAreReadWithTheirSpacingCommentsAndLineEndings() throws {
        let text = "# 2027\r\n\r\n2027-01-01\t休 \t 元旦   # New Year\r\n  2027-02-06..2027-02-07  班  春节 调休  \r\n"
        let entries = try WorkingDayCalendar.parse(text).get()
        #expect(
            entries == [
                WorkingDayCalendar.Entry(day: Self.day("2027-01-01"), kind: .holiday, name: "元旦"),
                WorkingDayCalendar.Entry(day: Self.day("2027-02-06"), kind: .workday, name: "春节 调休"),
                WorkingDayCalendar.Entry(day: Self.day("2027-02-07"), kind: .workday, name: "春节 调休"),
            ]
        )
        #expect(try WorkingDayCalendar.parse("").get() == [])
        #expect(try WorkingDayCalendar.parse("# nothing\n\n   \n").get() == [])
    }

    @Test func eachMistakeIsReportedWithItsLine() {
        typealias Problem = WorkingDayCalendar.Problem
        #expect(Self.problems("# x\n2026-02-30 休 春节") == [Problem(line: 2, reason: .unreadableDate("2026-02-30"))])
        #expect(Self.problems("2026-02-01..2026-02-30 休 春节") == [Problem(line: 1, reason: .unreadableDate("2026-02-30"))])
        #expect(Self.problems("2026-02-01 放 春节") == [Problem(line: 1, reason: .unknownKind("放"))])
        #expect(Self.problems("2026-02-01 休") == [Problem(line: 1, reason: .missingName)])
        #expect(Self.problems("2026-02-01 休   # 春节") == [Problem(line: 1, reason: .missingName)])
        #expect(Self.problems("2026-02-01") == [Problem(line: 1, reason: .missingKind)])
        #expect(Self.problems("2026-02-05..2026-02-01 休 春节") == [Problem(line: 1, reason: .rangeBackwards)])
        #expect(Self.problems("2026-12-31..2027-01-01 休 元旦") == [Problem(line: 1, reason: .rangeAcrossYears)])
        #expect(
            Self.problems("2026-02-01..2026-02-03 休 春节\n\n2026-02-03 班 春节调休")
                == [Problem(line: 3, reason: .repeatedDay(Self.day("2026-02-03")))]
        )
        // A single day listed twice under the same kind and name is still listed twice.
        #expect(Self.problems("2026-10-01 休 国庆节\n2026-10-01 休 国庆节") == [Problem(line: 2, reason: .repeatedDay(Self.day("2026-10-01")))])
        // Full-width or other separators are not spaces or tabs.
        #expect(
            Self.problems("2026-10-01\u{3000}休 国庆节") == [
                Problem(line: 1, reason: .unreadableDate("2026-10-01\u{3000}休")),
                Problem(line: 1, reason: .unknownKind("国庆节")),
                Problem(line: 1, reason: .missingName),
            ]
        )
    }

    @Test func everyMistakeInATextIsReported() {
        let text = """
            # 2026, typed in a hurry
            2026-02-30 休 春节
            2026-03-02 放 春节
            2026-03-03 休
            2026-03-10..2026-03-05 休 植树节
            2026-12-31..2027-01-01 休 元旦

            2026-03-20 休 某节
            2026-03-18..2026-03-21 班 某节调休
            2026-03-22
            2026-03-23 休 正确的一行
            """
        #expect(
            Self.problems(text) == [
                .init(line: 2, reason: .unreadableDate("2026-02-30")),
                .init(line: 3, reason: .unknownKind("放")),
                .init(line: 4, reason: .missingName),
                .init(line: 5, reason: .rangeBackwards),
                .init(line: 6, reason: .rangeAcrossYears),
                .init(line: 9, reason: .repeatedDay(Self.day("2026-03-20"))),
                .init(line: 10, reason: .missingKind),
            ]
        )
    }

    @Test func aYearIsWrittenBackWithItsRangesFolded() throws {
        let expected = """
            2026-01-01..2026-01-03 休 元旦
            2026-01-04 班 元旦调休
            2026-02-14 班 春节调休
            2026-02-15..2026-02-23 休 春节
            2026-02-28 班 春节调休
            2026-04-04..2026-04-06 休 清明节
            2026-05-01..2026-05-05 休 劳动节
            2026-05-09 班 劳动节调休
            2026-06-19..2026-06-21 休 端午节
            2026-09-20 班 国庆节调休
            2026-09-25..2026-09-27 休 中秋节
            2026-10-01..2026-10-07 休 国庆节
            2026-10-10 班 国庆节调休

            """
        #expect(Self.shipped.text(year: 2026) == expected)
        for year in [2024, 2025, 2026] {
            #expect(try WorkingDayCalendar.parse(Self.shipped.text(year: year)).get() == Self.shipped.entries(year: year))
        }
        #expect(Self.shipped.text(year: 2027) == "")
    }

    @Test func onlyNeighbouringDaysOfOneKindAndNameAreFolded() throws {
        // Adjacent days of different names, or kinds, stay apart; so do one name's days with a
        // gap; a month's end and the next month's start fold.
        let calendar = Self.calendar(
            """
            2027-10-01 休 甲
            2027-10-02 休 乙
            2027-10-03 班 乙
            2027-10-05 班 乙
            2027-01-31..2027-02-01 休 丙
            """
        )
        let expected = """
            2027-01-31..2027-02-01 休 丙
            2027-10-01 休 甲
            2027-10-02 休 乙
            2027-10-03 班 乙
            2027-10-05 班 乙

            """
        #expect(calendar.text(year: 2027) == expected)
        #expect(try WorkingDayCalendar.parse(calendar.text(year: 2027)).get() == calendar.entries(year: 2027))
    }

    @Test func anEnteredYearReplacesTheShippedOneWholly() {
        let entered = Self.calendar(
            """
            2026-10-01..2026-10-03 休 国庆节
            2027-01-01 休 元旦
            """
        )
        let merged = Self.shipped.merging(entered)
        #expect(merged.years == [2024, 2025, 2026, 2027])
        // Monday 5 October was a shipped holiday only; Saturday 10 October a shipped make-up day.
        #expect(merged.isWorkingDay(Self.day("2026-10-05")))
        #expect(!merged.isWorkingDay(Self.day("2026-10-10")))
        #expect(!merged.isWorkingDay(Self.day("2026-10-02")))
        // The Spring Festival of 2026 went with the rest of the shipped year.
        #expect(merged.isWorkingDay(Self.day("2026-02-16")))
        #expect(merged.entries(year: 2026).map(\.day) == Self.days("2026-10-01", "2026-10-02", "2026-10-03"))
        #expect(!merged.isWorkingDay(Self.day("2027-01-01")))
        // The other shipped years stay as they were.
        #expect(merged.entries(year: 2024) == Self.shipped.entries(year: 2024))
        #expect(merged.entries(year: 2025) == Self.shipped.entries(year: 2025))
        // Merging nothing changes nothing.
        #expect(Self.shipped.merging(WorkingDayCalendar(entries: [])) == Self.shipped)
    }
}
