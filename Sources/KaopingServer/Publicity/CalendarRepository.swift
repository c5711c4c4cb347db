import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The working-day calendar publicity periods are counted in: the State Council's holiday
/// arrangements published when this version was made (shipped with it), with the years an
/// administrator entered on the calendar page over them (an entered year replaces the shipped
/// one, so a correction to a shipped year is possible too).
public struct CalendarRepository: Sendable {
    let database: Database
    /// The shipped file's text; a broken one stops start-up (`shipped()` is called then).
    let shippedText: String

    public init(database: Database, shippedText: String = CalendarRepository.bundledText) {
        self.database = database
        self.shippedText = shippedText
    }

    /// The calendar file that ships with the server.
    public static var bundledText: String {
        guard let url = Bundle.module.url(forResource: "cn-working-days", withExtension: "txt", subdirectory: "calendar") else { return "" }
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// The shipped years alone.
    public func shipped() throws -> WorkingDayCalendar {
        switch WorkingDayCalendar.parse(shippedText) {
        case .success(let entries): return WorkingDayCalendar(entries: entries)
        case .failure(let problems): throw CalendarFileError(problems: problems.problems)
        }
    }

    public struct CalendarFileError: Error, CustomStringConvertible {
        public let problems: [WorkingDayCalendar.Problem]
        public var description: String {
            "calendar/cn-working-days.txt: " + problems.map { "line \($0.line): \($0.reason)" }.joined(separator: "; ")
        }
    }

    /// The years entered on the calendar page, with their text as entered.
    public struct EnteredYear: Sendable {
        public let year: Int
        public let text: String
        public let enteredAt: Date
        public let enteredBy: String?
    }

    public func entered() async throws -> [EnteredYear] {
        try await database.query(
            """
            SELECT c.year, c.entries, c.entered_at, u.username FROM calendar_years c LEFT JOIN users u ON u.id = c.entered_by
            ORDER BY c.year
            """
        ).map { row in
            let (year, text, at, by) = try row.decode((Int, String, Date, String?).self)
            return EnteredYear(year: year, text: text, enteredAt: at, enteredBy: by)
        }
    }

    /// The calendar in force: shipped years, with the entered ones over them.
    public func calendar() async throws -> WorkingDayCalendar {
        var entered: [WorkingDayCalendar.Entry] = []
        for year in try await self.entered() {
            if case .success(let entries) = WorkingDayCalendar.parse(year.text) { entered += entries }
        }
        return (try shipped()).merging(WorkingDayCalendar(entries: entered))
    }

    /// Stores a year's arrangements as typed; every entry must fall in that year.
    func store(year: Int, text: String, by user: UUID?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO calendar_years (year, entries, entered_by) VALUES (\(year), \(text), \(user))
            ON CONFLICT (year) DO UPDATE SET entries = excluded.entries, entered_at = now(), entered_by = excluded.entered_by
            """,
            logger: logger
        )
    }
}
