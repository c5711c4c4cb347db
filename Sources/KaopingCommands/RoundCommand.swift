import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct RoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round",
        abstract:
            "Create, correct, list, open, close, extend, reopen and cancel evaluation rounds, assign their evaluators, publish their results and sign them off.",
        subcommands: [
            CreateRound.self, EditRound.self, DeleteRound.self, ListRounds.self, OpenRound.self, CloseRound.self, ExtendRound.self,
            ReopenRound.self, CancelRound.self, AddBranches.self, AssignEvaluator.self, PubliciseRound.self, ApproveRound.self,
            ReopenPublicity.self,
        ]
    )
}

struct RoundOptions: SettingOptions {
    @Option(help: settingHelp("forms-dir")) var formsDir: String?
    @OptionGroup var database: DatabaseOptions
}

func roundID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw fail("'\(text)' is not a round id (see kaoping round list)") }
    return id
}

func chinaTime(_ text: String, option: String) throws -> Date {
    guard let date = ChinaTime.parse(text) else { throw fail("\(option) '\(text)' is not a Beijing time like 2026-12-15 18:00") }
    return date
}

/// Reads a round spec file, every problem named with the file.
func readSpec(_ path: String) throws -> RoundSpec {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw fail("cannot read \(path)", code: 1) }
    do {
        return try RoundSpec.parse(yaml: text)
    } catch {
        throw fail("\(path): " + error.problems.map { $0.text(.english) }.joined(separator: "\n\(path): "), code: 1)
    }
}

struct CreateRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a round from a round spec file (see docs/rounds.md).",
        discussion: """
            With an opening time the round is scheduled and opens by itself; without one it is a draft for 'kaoping round open'. \
            A closing time must lie ahead. A close outside the round's year and the next, or a year of business results not yet \
            loaded, is refused with a warning unless --accept-warnings is given.
            """
    )
    @Option(help: "The round spec (YAML).") var spec: String
    @Flag(help: "Save the round even when its dates raise warnings.") var acceptWarnings = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let parsed = try readSpec(spec)
        let accept = acceptWarnings
        let id = try await CommandState.run(options.flags) { state in
            try await state.services().rounds.create(parsed, acceptingWarnings: accept, actor: .commandLine, logger: state.logger)
        }
        say(id.uuidString.lowercased())
    }
}

struct EditRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Replace a draft or scheduled round's settings with those of a spec file.",
        discussion: "Only a round that has not opened can be edited; branches the spec no longer names leave it with their invitations."
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "The round spec (YAML).") var spec: String
    @Flag(help: "Save the round even when its dates raise warnings.") var acceptWarnings = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let parsed = try readSpec(spec)
        let accept = acceptWarnings
        let removed = try await CommandState.run(options.flags) { state in
            try await state.services().rounds.update(id, to: parsed, acceptingWarnings: accept, actor: .commandLine, logger: state.logger)
        }
        say(removed.isEmpty ? "saved" : "saved; branches no longer in the round: \(removed.joined(separator: ", "))")
    }
}

struct DeleteRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a round that has not opened (an opened round is cancelled instead).",
        discussion: "Asks for --yes, since it cannot be undone; the audit log keeps the round's title."
    )
    @Argument(help: "Round id.") var id: String
    @Flag(help: "Confirm the deletion.") var yes = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        guard yes else { throw fail("deleting a round cannot be undone: run again with --yes") }
        try await CommandState.run(options.flags) { state in
            try await state.services().rounds.delete(id, actor: .commandLine, logger: state.logger)
        }
        say("deleted")
    }
}

struct CancelRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel (作废) an open or closed round, with a reason for the audit log.",
        discussion: "Its answers and results stay stored; it leaves the home pages, rounds list, rankings, branch records and secretaries' views."
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "Why the round is cancelled (kept in the audit log).") var reason: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let reason = self.reason
        try await CommandState.run(options.flags) { state in
            try await state.services().rounds.cancel(id, reason: reason, actor: .commandLine, logger: state.logger)
        }
        say("cancelled")
    }
}

struct AddBranches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-branches",
        abstract: "Add branches to a round that has not closed (an open round's new members get their invitations at once)."
    )
    @Argument(help: "Round id.") var id: String
    @Argument(help: "Branch codes.") var codes: [String]
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let codes = self.codes
        let (added, issued) = try await CommandState.run(options.flags) { state in
            try await state.services().rounds.addBranches(id, codes: codes, actor: .commandLine, logger: state.logger)
        }
        say(added.isEmpty ? "no branch added: all are in the round already" : "added \(added.joined(separator: ", ")); \(issued) invitations made")
    }
}

struct ListRounds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List rounds, newest first (times in Beijing time).")
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let rounds = try await CommandState.run(options.flags) { state in try await state.services().roundRepository.list() }
        if rounds.isEmpty { say("no rounds") }
        for round in rounds {
            let opens = round.opensAt.map(ChinaTime.format) ?? "-"
            let closes = round.closesAt.map(ChinaTime.format) ?? "-"
            say(
                "\(round.id.uuidString.lowercased())  \(round.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(opens) → \(closes)  \(round.branches) branches  \(round.title)"
            )
        }
    }
}

struct OpenRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a draft or scheduled round now (freezes its forms and configuration)."
    )
    @Argument(help: "Round id.") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        try await CommandState.run(options.flags) { state in
            try await state.servicesWithFrozenForms().rounds.open(id, actor: .commandLine, logger: state.logger)
        }
        say("opened")
    }
}

struct CloseRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "Close an open round now and store its result snapshot.")
    @Argument(help: "Round id.") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        try await CommandState.run(options.flags) { state in
            _ = try await state.services().rounds.close(id, actor: .commandLine, logger: state.logger)
        }
        say("closed")
    }
}

struct ExtendRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Move a round's closing time later.")
    @Argument(help: "Round id.") var id: String
    @Option(help: "New closing time, Beijing time (2026-12-20 18:00).") var closes: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let closes = try chinaTime(self.closes, option: "--closes")
        try await CommandState.run(options.flags) { state in
            try await state.services().rounds.extend(id, closesAt: closes, actor: .commandLine, logger: state.logger)
        }
        say("closes at \(ChinaTime.format(closes)) (Beijing time)")
    }
}

struct ReopenRound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Reopen a closed round, with a reason for the audit log.")
    @Argument(help: "Round id.") var id: String
    @Option(help: "New closing time, Beijing time.") var closes: String
    @Option(help: "Why the round is reopened (kept in the audit log).") var reason: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let closes = try chinaTime(self.closes, option: "--closes")
        let reason = self.reason
        try await CommandState.run(options.flags) { state in
            try await state.services().rounds.reopen(id, closesAt: closes, reason: reason, actor: .commandLine, logger: state.logger)
        }
        say("reopened until \(ChinaTime.format(closes)) (Beijing time)")
    }
}

struct AssignEvaluator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign an evaluator account to branches of a round, to fill their organisation score sheets.",
        discussion: "Assigning what is assigned already changes nothing. Remove an assignment on the round's page."
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "The evaluator's login name.") var username: String
    @Option(help: "Branch codes separated by commas (default: every branch of the round).") var branches: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(self.id)
        let (username, codes) = (self.username, branchCodes(branches))
        let assigned: Int
        do {
            assigned = try await CommandState.run(options.flags) { state in
                try await state.services().rounds.assignEvaluator(
                    round: id,
                    username: username,
                    branchCodes: codes,
                    actor: .commandLine,
                    logger: state.logger
                )
            }
        } catch let problem as AssignmentProblem {
            throw fail(problem.message(.english), code: 1)
        }
        say("\(assigned) new assignment(s) for \(username)")
    }
}

struct CloseDueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-due",
        abstract: "Open scheduled rounds that are due and close open rounds past their closing time, once (for cron).",
        discussion: "kaoping serve does this every second by itself; this command is for running it from cron instead or as well."
    )
    @OptionGroup var options: RoundOptions

    func run() async throws {
        // A scheduled round that is due opens here: its forms are frozen first, as at start-up.
        let (opened, closed) = try await CommandState.run(options.flags) { state in
            try await state.servicesWithFrozenForms().rounds.runDue(logger: state.logger)
        }
        for id in opened { say("opened \(id.uuidString.lowercased())") }
        for id in closed { say("closed \(id.uuidString.lowercased())") }
        if opened.isEmpty && closed.isEmpty { say("nothing due") }
    }
}
