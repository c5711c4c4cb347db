import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The steps from closing to final as the office takes them: the publicity period set (and
/// started at once, or by the scheduler at its time), ended by the scheduler, the results
/// signed off with the meeting's reference, and a sign-off withdrawn by reopening the
/// publicity with a reason. Each is one transaction with its audit entry; the pages, the API
/// and `kaoping round publicise|approve|reopen-publicity` call these.
public struct PublicityService: Sendable {
    let database: Database
    public let repository: PublicityRepository
    public let calendar: CalendarRepository
    /// How many working days a publicity lasts unless the administrator says otherwise.
    public static let standardWorkingDays = 5

    public init(database: Database, repository: PublicityRepository, calendar: CalendarRepository) {
        self.database = database
        self.repository = repository
        self.calendar = calendar
    }

    public func state(_ id: UUID) async throws -> Publicity? {
        try await repository.state(id)
    }

    /// The round's grades, top band first: what a committee's decision may set.
    public func grades(_ id: UUID) async throws -> [String] {
        guard let text = try await database.query("SELECT config::text FROM rounds WHERE id = \(id)").first?.decode(String.self) else { return [] }
        return RoundRepository.configuration(json: text).bands.map(\.grade)
    }

    /// The standard period from `start`: five working days by the calendar, with the years it
    /// does not know counted Monday to Friday (the page says which).
    public func proposedPeriod(from start: Date) async throws -> WorkingDayCalendar.Period {
        try await calendar.calendar().end(afterWorkingDays: Self.standardWorkingDays, from: start, timeZone: ChinaTime.zone)
    }

    /// Sets a closed round's publicity period, or changes the period of one in publicity (an
    /// ended one taking objections again if its new end lies ahead). No start means now; no
    /// end means the standard five working days from the start. A start that has come starts
    /// the publicity in the same transaction.
    @discardableResult
    public func publicise(
        _ id: UUID,
        startsAt: Date? = nil,
        endsAt: Date? = nil,
        shows: PublicityShows,
        actor: AuditActor,
        logger: Logger,
        now: Date = .now
    ) async throws -> Publicity {
        let start = startsAt ?? now
        let end: Date
        if let endsAt { end = endsAt } else { end = try await proposedPeriod(from: start).end }
        guard end > start else { throw PublicityError.endsBeforeStart }
        guard end > now else { throw PublicityError.endPassed }
        try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status.canPublicise else { throw RoundError.wrongStatus(current: status, action: .publicised) }
            try await repository.setPeriod(
                id,
                startsAt: start,
                endsAt: end,
                shows: shows,
                startNow: status == .closed && start <= now,
                on: connection,
                logger: logger
            )
            var details = ["starts": ChinaTime.format(start), "ends": ChinaTime.format(end), "shows": shows.rawValue]
            // Started by this step itself: one entry says both.
            if status == .closed && start <= now { details["started"] = "now" }
            try await AuditLog.record(
                .init(action: "round.publicity_set", actor: actor, subject: id.lowercased, details: details),
                on: connection,
                logger: logger
            )
        }
        guard let publicity = try await repository.state(id) else { throw RoundError.notFound }
        return publicity
    }

    /// Starts the publicities whose time has come and ends those whose period is over, each
    /// exactly once across instances (the scheduler calls it every second).
    public func runDue(logger: Logger) async throws -> (started: [UUID], ended: [UUID]) {
        var started: [UUID] = []
        var ended: [UUID] = []
        for id in try await repository.due() {
            let step = try await database.transaction(logger: logger) { connection -> PublicityRepository.DueStep? in
                guard let step = try await repository.dueLocked(id, on: connection, logger: logger) else { return nil }
                switch step {
                case .start: try await repository.start(id, on: connection, logger: logger)
                case .end: try await repository.end(id, on: connection, logger: logger)
                }
                let action = step == .start ? "round.publicity_started" : "round.publicity_ended"
                try await AuditLog.record(.init(action: action, actor: .scheduler, subject: id.lowercased), on: connection, logger: logger)
                return step
            }
            switch step {
            case .start: started.append(id)
            case .end: ended.append(id)
            case nil: break
            }
        }
        return (started, ended)
    }

    /// Signs a round off once its publicity has ended. Objections still open refuse it with
    /// their receipts unless `confirmingOpenObjections` says the approver has seen them; the
    /// sign-off then records how many there were. Returns the approved results' hash.
    @discardableResult
    public func approve(
        _ id: UUID,
        reference: String,
        meetingOn: String,
        confirmingOpenObjections: Bool = false,
        actor: AuditActor,
        logger: Logger
    ) async throws -> String {
        let reference = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reference.isEmpty else { throw PublicityError.referenceRequired }
        guard let meeting = CivilDay(meetingOn.trimmingCharacters(in: .whitespaces)) else { throw PublicityError.meetingDateUnreadable }
        return try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status == .publicity else { throw RoundError.wrongStatus(current: status, action: .approved) }
            let (ended, endsAt) = try await repository.period(id, on: connection, logger: logger)
            guard ended else { throw PublicityError.notEnded(endsAt: endsAt) }
            let open = try await repository.openObjections(id, on: connection, logger: logger)
            if !open.isEmpty && !confirmingOpenObjections { throw PublicityError.openObjections(open) }
            let hash = try await repository.approve(
                id,
                reference: reference,
                meetingOn: meeting.description,
                openObjections: open.count,
                approvedBy: actor.userID,
                on: connection,
                logger: logger
            )
            var details = ["reference": reference, "meeting": meeting.description, "results_hash": hash]
            if !open.isEmpty { details["open_objections"] = open.joined(separator: ",") }
            try await AuditLog.record(
                .init(action: "round.approved", actor: actor, subject: id.lowercased, details: details),
                on: connection,
                logger: logger
            )
            return hash
        }
    }

    /// Withdraws an approved round's sign-off, with a reason, and publishes it again until
    /// `endsAt` (objections taken again): the only way its results change after sign-off.
    public func reopen(_ id: UUID, endsAt: Date, reason: String, actor: AuditActor, logger: Logger, now: Date = .now) async throws {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw PublicityError.reasonRequired }
        guard endsAt > now else { throw PublicityError.endPassed }
        try await database.transaction(logger: logger) { connection in
            let status = try await RoundRepository.lockedStatus(id, connection: connection, logger: logger)
            guard status == .approved else { throw RoundError.wrongStatus(current: status, action: .publicityReopened) }
            try await repository.reopen(id, endsAt: endsAt, reason: reason, by: actor.userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "round.publicity_reopened",
                    actor: actor,
                    subject: id.lowercased,
                    details: ["reason": reason, "ends": ChinaTime.format(endsAt)]
                ),
                on: connection,
                logger: logger
            )
        }
    }
}

extension PublicityService {
    /// What is wrong with a year's arrangements as typed on the calendar page.
    public enum CalendarYearProblem: Error, Equatable {
        case unreadable([WorkingDayCalendar.Problem])
        /// Lines whose days fall outside the year entered.
        case outsideYear([Int])
        case empty
    }

    /// Enters (or replaces) a year's holiday arrangements, as the State Council announced them.
    public func enterCalendarYear(_ year: Int, text: String, actor: AuditActor, logger: Logger) async throws {
        let entries: [WorkingDayCalendar.Entry]
        switch WorkingDayCalendar.parse(text) {
        case .success(let parsed): entries = parsed
        case .failure(let problems): throw CalendarYearProblem.unreadable(problems.problems)
        }
        guard !entries.isEmpty else { throw CalendarYearProblem.empty }
        let outside = CalendarYearProblem.linesOutside(year: year, text: text)
        guard outside.isEmpty else { throw CalendarYearProblem.outsideYear(outside) }
        try await database.transaction(logger: logger) { connection in
            try await calendar.store(year: year, text: text, by: actor.userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "calendar.year_entered", actor: actor, subject: String(year), details: ["entries": String(entries.count)]),
                on: connection,
                logger: logger
            )
        }
    }
}

extension PublicityService.CalendarYearProblem {
    /// The numbers of the lines whose entries fall in another year.
    static func linesOutside(year: Int, text: String) -> [Int] {
        var lines: [Int] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard case .success(let entries) = WorkingDayCalendar.parse(String(line)) else { continue }
            if entries.contains(where: { $0.day.year != year }) { lines.append(index + 1) }
        }
        return lines
    }
}
