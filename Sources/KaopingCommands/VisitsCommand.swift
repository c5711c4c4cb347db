import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct VisitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visits",
        abstract: "One-time visit codes for the people a service window serves (好差评 style), and how each branch's public answers.",
        subcommands: [VisitAccess.self, IssueVisitCodes.self, ExportVisitCodes.self]
    )
}

/// `--branches b01,b02`: the codes, or none for every branch of the round.
func branchCodes(_ option: String?) -> [String] {
    (option ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

struct VisitAccess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Set how the public answers: link (the poster's open link), codes (visit codes only) or both."
    )
    @Argument(help: "Round id.") var round: String
    @Option(help: "link, codes or both.") var mode: String
    @Option(help: "Branch codes separated by commas (default: every branch of the round).") var branches: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        guard let access = PublicAccess(rawValue: mode) else { throw fail("--mode must be link, codes or both, not '\(mode)'") }
        let codes = branchCodes(branches)
        let changed = try await CommandState.run(options.flags) { state in
            try await state.services().handouts.setPublicAccess(
                round: id,
                branchCodes: codes,
                access: access,
                actor: .commandLine,
                logger: state.logger
            )
        }
        say("\(changed) branch(es) now take public answers by: \(access.rawValue)")
    }
}

struct IssueVisitCodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Make a new numbered batch of one-time visit codes for each branch (print them from the round's page, or export them)."
    )
    @Argument(help: "Round id.") var round: String
    @Option(help: "Codes per branch.") var count: Int
    @Option(help: "Branch codes separated by commas (default: every branch of the round).") var branches: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let count = self.count
        let codes = branchCodes(branches)
        let made = try await CommandState.run(options.flags) { state in
            try await state.services().handouts.issueVisitCodes(
                round: id,
                branchCodes: codes,
                count: count,
                actor: .commandLine,
                logger: state.logger
            )
        }
        let perBranch = Dictionary(grouping: made, by: \.branchCode).map { "\($0.key) batch \($0.value[0].batch)" }.sorted()
        say("made \(made.count) visit code(s): \(perBranch.joined(separator: ", "))")
    }
}

struct ExportVisitCodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a round's visit codes as links in CSV (UTF-8 with BOM)."
    )
    @Argument(help: "Round id.") var round: String
    @Option(help: "Only this branch.") var branch: String?
    @Option(help: "Only this batch.") var batch: Int?
    @Option(name: .customLong("out"), help: "File to write; '-' (the default) for standard output.") var out: String = "-"
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let branch = self.branch
        let batch = self.batch
        let base = try publicBaseURL(options, override: publicURL)
        let codes = try await CommandState.run(options.flags) { state in
            try await state.services().visitCodes.codes(roundID: id, branchCode: branch, batch: batch)
        }
        try OutputFile(out).write(InvitationCSV.visitCodes(codes, publicBaseURL: base))
        if out != "-" { say("wrote \(codes.count) visit code(s) to \(out)") }
    }
}
