import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer

// `kaoping round publicise|approve|reopen-publicity` and `kaoping objections …`: the same
// service functions as the publicity pages.

struct PubliciseRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publicise",
        abstract: "Publish a closed round's proposed results for objections (公示), or change its publicity period.",
        discussion: """
            Without --starts the publicity starts now; without --ends it lasts five working days by the \
            holiday calendar (public holidays skipped, make-up working days counted). It starts and ends \
            by itself at its times.
            """
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "Start, Beijing time (2026-12-07 09:00); empty for now.") var starts: String?
    @Option(help: "End, Beijing time; empty for five working days from the start.") var ends: String?
    @Option(help: "What the public page lists: top (the branches proposed for the top grade), grades, or scores.") var shows: String = "top"
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let starts = try self.starts.map { try chinaTime($0, option: "--starts") }
        let ends = try self.ends.map { try chinaTime($0, option: "--ends") }
        guard let shows = PublicityShows(rawValue: self.shows) else { throw fail("--shows must be top, grades or scores") }
        let publicity = try await CommandState.run(options.flags) { state in
            try await state.services().publicity.publicise(
                id,
                startsAt: starts,
                endsAt: ends,
                shows: shows,
                actor: .commandLine,
                logger: state.logger
            )
        }
        let start = publicity.startsAt.map(ChinaTime.format) ?? "-"
        let end = publicity.endsAt.map(ChinaTime.format) ?? "-"
        say("publicity \(publicity.stage == .scheduled ? "scheduled" : "running") from \(start) to \(end) (Beijing time), showing \(shows.rawValue)")
        if let key = publicity.key { say("public page: \(SiteURL.publicity(key: key).path)") }
    }
}

struct ApproveRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Sign off a round whose publicity has ended (定稿), with the meeting's reference and date."
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "The meeting's reference, e.g. the minutes number.") var reference: String
    @Option(name: .customLong("meeting-date"), help: "The meeting's date (2026-12-20).") var meetingDate: String
    @Flag(name: .customLong("confirm-open-objections"), help: "Approve although objections have no decision yet.") var confirmOpen = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let (reference, meeting, confirm) = (self.reference, meetingDate, confirmOpen)
        let hash = try await CommandState.run(options.flags) { state in
            try await state.services().publicity.approve(
                id,
                reference: reference,
                meetingOn: meeting,
                confirmingOpenObjections: confirm,
                actor: .commandLine,
                logger: state.logger
            )
        }
        say("approved (\(reference)); results sha256 \(hash)")
    }
}

struct ReopenPublicity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reopen-publicity",
        abstract: "Withdraw an approved round's sign-off, with a reason, and publish it again until --ends."
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "New end of the publicity, Beijing time.") var ends: String
    @Option(help: "Why the sign-off is withdrawn (kept with it and in the audit log).") var reason: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let ends = try chinaTime(self.ends, option: "--ends")
        let reason = self.reason
        try await CommandState.run(options.flags) { state in
            try await state.services().publicity.reopen(id, endsAt: ends, reason: reason, actor: .commandLine, logger: state.logger)
        }
        say("in publicity again until \(ChinaTime.format(ends)) (Beijing time)")
    }
}

struct ObjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objections",
        abstract: "List a round's objections (异议) and answer them.",
        subcommands: [ListObjections.self, AnswerObjection.self]
    )
}

struct ListObjections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a round's objections, open ones first.")
    @Argument(help: "Round id.") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let objections = try await CommandState.run(options.flags) { state in try await state.services().objections.list(round: id) }
        if objections.isEmpty { say("no objections") }
        for objection in objections {
            let state = objection.decision?.rawValue ?? (objection.assignedTo.map { "assigned to \($0)" } ?? "open")
            let filer = objection.filedBy ?? (objection.anonymous ? "anonymous" : objection.contactName ?? "")
            say(
                "\(objection.id.uuidString.lowercased())  \(objection.receipt)  \(objection.branchCode)  \(ChinaTime.format(objection.filedAt))  \(filer)  \(state)"
            )
            say("    " + objection.body.replacingOccurrences(of: "\n", with: "\n    "))
            if let reply = objection.reply { say("    reply: " + reply.replacingOccurrences(of: "\n", with: "\n    ")) }
        }
    }
}

struct AnswerObjection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Reply to an objection (its filer reads the reply through the receipt link), and decide it if --decision is given."
    )
    @Argument(help: "Objection id (see kaoping objections list).") var id: String
    @Option(help: "The reply.") var reply: String?
    @Option(help: "not-upheld or upheld.") var decision: String?
    @Option(name: .customLong("assign-to"), help: "Give it to this administrator account.") var assignTo: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        guard let id = UUID(uuidString: self.id) else { throw fail("'\(self.id)' is not an objection id (see kaoping objections list)") }
        let decision = try self.decision.map { text in
            guard let decision = Objection.Decision(rawValue: text) else { throw fail("--decision must be not-upheld or upheld") }
            return decision
        }
        guard reply != nil || decision != nil || assignTo != nil else { throw fail("give --reply, --decision or --assign-to") }
        let (reply, assignTo) = (self.reply, self.assignTo)
        try await CommandState.run(options.flags) { state in
            let objections = try await state.services().objections
            do {
                if let assignTo { try await objections.assign(id, to: assignTo, actor: .commandLine, logger: state.logger) }
                if let decision {
                    try await objections.decide(id, decision, reply: reply, actor: .commandLine, logger: state.logger)
                } else if let reply {
                    try await objections.reply(id, text: reply, actor: .commandLine, logger: state.logger)
                }
            } catch let problem as ObjectionService.HandlingProblem {
                throw fail("\(problem)", code: 1)
            }
        }
        say(decision.map { "decided: \($0.rawValue)" } ?? (reply != nil ? "replied" : "assigned"))
    }
}
