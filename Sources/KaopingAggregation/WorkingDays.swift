import Foundation

/// A day on the wall calendar, without a time or a time zone: holidays are announced as such
/// days, and comparing them as instants would shift them by a zone's offset.
public struct CivilDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil for a day that does not exist (2026-02-30, 2025-02-29), so that a mistyped date is
    /// reported instead of rolling over into the next month.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= Self.length(of: month, in: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads exactly `YYYY-MM-DD`, the form the calendar file and the notices' tables are
    /// written in; anything looser (`2026-2-1`, a time) is more likely a slip than a date.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day it is at `date` where the office is: a round closing late in the evening in
    /// Beijing is still on that day there though UTC has moved on.
    public init(_ date: Date, in timeZone: TimeZone) {
        let local = date.timeIntervalSince1970 + TimeInterval(timeZone.secondsFromGMT(for: date))
        self.init(daysSinceEpoch: Int((local / 86_400).rounded(.down)))
    }

    private init(daysSinceEpoch: Int) {
        // Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
    }

    /// Days since 1970-01-01, so that stepping and weekdays need no Foundation calendar.
    private var daysSinceEpoch: Int {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func length(of month: Int, in year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The instant a deadline on this day falls at in the office's zone (18:00 closes a
    /// publicity period, 12:00 decides whether a start's own day counts).
    public func date(hour: Int, minute: Int, in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        if let date = calendar.date(from: components) { return date }
        let local = TimeInterval(daysSinceEpoch * 86_400 + hour * 3600 + minute * 60)
        return Date(timeIntervalSince1970: local - TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: local))))
    }

    /// The day `days` later (earlier when negative), across months and years.
    public func adding(days: Int) -> CivilDay { CivilDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// Saturday or Sunday: the days off unless a make-up working day (班) says otherwise.
    public var isWeekend: Bool {
        // 1970-01-01 was a Thursday; 0 is Sunday, 6 Saturday.
        let weekday = ((daysSinceEpoch % 7) + 7 + 4) % 7
        return weekday == 0 || weekday == 6
    }

    /// `YYYY-MM-DD`, the form the calendar file is written in.
    public var description: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    public static func < (lhs: CivilDay, rhs: CivilDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// Which days are worked in mainland China: Monday to Friday, except the public holidays (休)
/// and the weekend days worked in their place (班, 调休) that the State Council announces
/// each year. Deadlines such as a publicity period are counted in working days, and a count
/// that ignored the Spring Festival would end a period while everyone is away.
///
/// The calendar is read from lines of text (see `parse(_:)`): the file shipped with the server
/// and the years an administrator enters once a new notice is out.
public struct WorkingDayCalendar: Sendable, Equatable {
    /// What a listed day is; the raw values are the characters written in the file.
    public enum Kind: String, Sendable {
        /// A public holiday: no work, even on a weekday.
        case holiday = "休"
        /// A make-up working day: work, even on a Saturday or Sunday.
        case workday = "班"
    }

    /// One listed day. A range in the file becomes one entry per day, so that a year entered
    /// by hand and the shipped one compare and merge day by day.
    public struct Entry: Equatable, Sendable {
        public let day: CivilDay
        public let kind: Kind
        /// The holiday it belongs to (春节, 国庆节调休), shown to the administrator.
        public let name: String

        public init(day: CivilDay, kind: Kind, name: String) {
            self.day = day
            self.kind = kind
            self.name = name
        }
    }

    /// Why a line of calendar text was refused.
    public enum Reason: Equatable, Sendable {
        /// The date or one end of the range is not a real `YYYY-MM-DD` day; the text as written.
        case unreadableDate(String)
        /// The date is not followed by 休 or 班.
        case missingKind
        /// Something other than 休 or 班 where the kind belongs; the text as written.
        case unknownKind(String)
        /// Nothing after the kind: a day without its holiday's name cannot be checked against
        /// the notice.
        case missingName
        /// The range ends before it starts.
        case rangeBackwards
        /// The range runs into the next year: a year is entered and replaced as a whole, so a
        /// range may not straddle two.
        case rangeAcrossYears
        /// The day was listed on an earlier line already; which of the two is meant is unclear.
        case repeatedDay(CivilDay)
    }

    /// A refused line, numbered from 1 as an editor shows it.
    public struct Problem: Equatable, Sendable, Error {
        public let line: Int
        public let reason: Reason

        public init(line: Int, reason: Reason) {
            self.line = line
            self.reason = reason
        }
    }

    /// Every problem in a text at once, so that an administrator correcting a pasted year sees
    /// all the lines to fix instead of one per attempt.
    public struct Problems: Equatable, Sendable, Error {
        public let problems: [Problem]

        public init(_ problems: [Problem]) { self.problems = problems }
    }

    private let entriesByDay: [CivilDay: Entry]

    /// Reads calendar text: the shipped file and what an administrator types use one format so
    /// that either can be checked and written back the same way.
    ///
    /// Lines; `#` starts a comment running to the end of the line; blank lines are skipped. An
    /// entry is `YYYY-MM-DD[..YYYY-MM-DD] 休|班 name`, its fields separated by spaces or tabs;
    /// the name is the rest of the line. A range covers both ends and every day between, within
    /// one year. A day may be listed once only. The entries come back one per day, in the
    /// order written.
    public static func parse(_ text: String) -> Result<[Entry], Problems> {
        var entries: [Entry] = []
        var problems: [Problem] = []
        var seen: Set<CivilDay> = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = index + 1
            let content = rawLine.prefix { $0 != "#" }
            var fields = Fields(content)
            guard let dateField = fields.next() else { continue }
            let kindField = fields.next()
            let name = fields.rest()
            var lineProblems: [Reason] = []

            let days = readDays(dateField, problems: &lineProblems)
            let kind: Kind?
            if let kindField {
                kind = Kind(rawValue: String(kindField))
                if kind == nil { lineProblems.append(.unknownKind(String(kindField))) }
            } else {
                kind = nil
                lineProblems.append(.missingKind)
            }
            if name.isEmpty, kindField != nil { lineProblems.append(.missingName) }
            if let repeated = days.first(where: { seen.contains($0) }) { lineProblems.append(.repeatedDay(repeated)) }
            seen.formUnion(days)

            problems += lineProblems.map { Problem(line: lineNumber, reason: $0) }
            if lineProblems.isEmpty, let kind {
                entries += days.map { Entry(day: $0, kind: kind, name: name) }
            }
        }
        return problems.isEmpty ? .success(entries) : .failure(Problems(problems))
    }

    /// The days a date field names, empty when it names none (the reasons are added).
    private static func readDays(_ field: Substring, problems: inout [Reason]) -> [CivilDay] {
        guard let separator = field.range(of: "..") else {
            guard let day = CivilDay(field) else {
                problems.append(.unreadableDate(String(field)))
                return []
            }
            return [day]
        }
        let firstText = field[..<separator.lowerBound]
        let lastText = field[separator.upperBound...]
        let first = CivilDay(firstText)
        let last = CivilDay(lastText)
        if first == nil { problems.append(.unreadableDate(String(firstText))) }
        if last == nil { problems.append(.unreadableDate(String(lastText))) }
        guard let first, let last else { return [] }
        if last < first {
            problems.append(.rangeBackwards)
            return []
        }
        if last.year != first.year {
            problems.append(.rangeAcrossYears)
            return []
        }
        return Array(sequence(first: first) { $0 < last ? $0.adding(days: 1) : nil })
    }

    /// A line cut at spaces and tabs, the name keeping any spaces inside it.
    private struct Fields {
        private var remainder: Substring

        init(_ line: Substring) { remainder = line }

        private static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }

        mutating func next() -> Substring? {
            remainder = remainder.drop(while: Self.isBlank)
            guard !remainder.isEmpty else { return nil }
            let field = remainder.prefix { !Self.isBlank($0) }
            remainder = remainder[field.endIndex...]
            return field
        }

        func rest() -> String {
            String(remainder.drop(while: Self.isBlank).reversed().drop(while: Self.isBlank).reversed())
        }
    }

    /// A calendar of the given days. Should a day come twice, the later entry wins; `parse(_:)`
    /// never returns such entries.
    public init(entries: [Entry]) {
        var byDay: [CivilDay: Entry] = [:]
        for entry in entries { byDay[entry.day] = entry }
        entriesByDay = byDay
    }

    /// The years the calendar knows. A year with no entry at all is taken as not yet
    /// announced rather than as a year without holidays, since none has ever had none.
    public var years: [Int] { Set(entriesByDay.keys.map(\.year)).sorted() }

    /// A year's listed days in date order, for showing the year or writing it out.
    public func entries(year: Int) -> [Entry] {
        entriesByDay.values.filter { $0.day.year == year }.sorted { $0.day < $1.day }
    }

    /// Whether people are at work that day: a listed day says so itself (班 works, 休 does
    /// not); any other day is worked Monday to Friday.
    public func isWorkingDay(_ day: CivilDay) -> Bool {
        if let entry = entriesByDay[day] { return entry.kind == .workday }
        return !day.isWeekend
    }

    /// A year written back in the file format, for the administrator to read and edit on the
    /// calendar page: consecutive days of one kind and name become one `a..b` range, so a year
    /// reads like the notice. `parse(_:)` reads it back to the same entries (names that came
    /// from `parse(_:)` never hold a `#` or a line break, which would not survive).
    public func text(year: Int) -> String {
        var lines: [String] = []
        var run: (first: Entry, last: CivilDay)?
        func flush() {
            guard let run else { return }
            let days = run.first.day == run.last ? "\(run.first.day)" : "\(run.first.day)..\(run.last)"
            lines.append("\(days) \(run.first.kind.rawValue) \(run.first.name)")
        }
        for entry in entries(year: year) {
            if let current = run, current.last.adding(days: 1) == entry.day, current.first.kind == entry.kind,
                current.first.name == entry.name
            {
                run = (current.first, entry.day)
            } else {
                flush()
                run = (entry, entry.day)
            }
        }
        flush()
        return lines.map { $0 + "\n" }.joined()
    }

    /// This calendar with `other`'s years in place of its own. A year is replaced wholesale,
    /// never merged day by day: an administrator entering a year types the whole notice, and a
    /// day the notice moved must not linger from the shipped file.
    public func merging(_ other: WorkingDayCalendar) -> WorkingDayCalendar {
        let replaced = Set(other.years)
        let kept = entriesByDay.values.filter { !replaced.contains($0.day.year) }
        return WorkingDayCalendar(entries: kept + Array(other.entriesByDay.values))
    }

    /// The end of a period counted in working days, with what was counted so it can be shown.
    public struct Period: Equatable, Sendable {
        /// 18:00 in the office's zone on the last counted day.
        public let end: Date
        /// The working days counted, in order.
        public let days: [CivilDay]
        /// Years of the counted days (and of the start's day) that the calendar has no entries
        /// for. Their days were counted Monday to Friday, which misses their holidays: the
        /// caller warns that the end may come too early.
        public let unknownYears: [Int]

        public init(end: Date, days: [CivilDay], unknownYears: [Int]) {
            self.end = end
            self.days = days
            self.unknownYears = unknownYears
        }
    }

    /// The publicity period's end: `workingDays` working days counted from `start`.
    ///
    /// The start's own day counts when it is a working day and the start is before 12:00 in
    /// `timeZone`: a notice put up in the morning gives most of that day to read it, one put up
    /// in the afternoon does not. Otherwise counting begins with the next working day. The
    /// period ends at 18:00, the end of the office day, on the last counted working day.
    /// `workingDays` below 1 is taken as 1: a period ends on some working day.
    public func end(afterWorkingDays workingDays: Int, from start: Date, timeZone: TimeZone) -> Period {
        let wanted = max(1, workingDays)
        let startDay = CivilDay(start, in: timeZone)
        var day = startDay
        if !(isWorkingDay(startDay) && start < startDay.date(hour: 12, minute: 0, in: timeZone)) {
            day = day.adding(days: 1)
        }
        var counted: [CivilDay] = []
        while counted.count < wanted {
            if isWorkingDay(day) { counted.append(day) }
            day = day.adding(days: 1)
        }
        let known = Set(years)
        let unknown = Set(([startDay] + counted).map(\.year)).subtracting(known).sorted()
        let last = counted[counted.count - 1]
        return Period(end: last.date(hour: 18, minute: 0, in: timeZone), days: counted, unknownYears: unknown)
    }
}
