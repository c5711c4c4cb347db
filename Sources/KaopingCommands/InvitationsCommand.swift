import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct InvitationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invitations",
        abstract: "Member invitations of a round.",
        subcommands: [IssueInvitations.self, ReissueInvitation.self, ExportInvitations.self]
    )
}

/// The base of the links, from `--public-url` if given, else as the server would have it.
func publicBaseURL(_ options: RoundOptions, override: String?) throws -> String {
    var flags = options.flags
    flags["public-url"] = override
    let base = try resolveConfiguration(flags).publicBaseURL
    if PublicAddress.isLocalOnly(base) {
        // A warning, not a refusal: a test round on one machine is a fair use.
        complain(
            "kaoping: warning: the links point at \(base), which phones outside this machine or network cannot open; pass --public-url https://… (or set KAOPING_PUBLIC_URL) before printing or sending them"
        )
    }
    return base
}

struct IssueInvitations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Give every member of the round's branches who has none an invitation link (safe to run again)."
    )
    @Argument(help: "Round id.") var round: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let issued = try await CommandState.run(options.flags) { state in
            try await state.services().handouts.issueInvitations(round: id, actor: .commandLine, logger: state.logger)
        }
        say("issued \(issued) invitation(s); download the links from the round's page in the admin area")
    }
}

struct ReissueInvitation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reissue",
        abstract: "Give one member a new link; the old one stops working. Members who have answered get none."
    )
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("staff-number"), help: "The member's staff number.") var staffNumber: String
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let staff = staffNumber
        let base = try publicBaseURL(options, override: publicURL)
        let token = try await CommandState.run(options.flags) { state in
            try await state.services().handouts.reissueInvitation(round: id, staffNumber: staff, actor: .commandLine, logger: state.logger)
        }
        guard let token else {
            throw fail("no new link: the member is not in the round, is inactive, or has already answered", code: 1)
        }
        say(SiteURL.invitation(token: token).absolute(base: base))
    }
}

struct ExportInvitations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a round's invitation links as CSV (UTF-8 with BOM, for mail merge), like the download in the admin area."
    )
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("out"), help: "File to write; '-' for standard output.") var out: String
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let base = try publicBaseURL(options, override: publicURL)
        let links = try await CommandState.run(options.flags) { state in try await state.services().invitations.links(roundID: id) }
        try OutputFile(out).write(InvitationCSV.links(links, publicBaseURL: base))
        if out != "-" { say("wrote \(links.count) link(s) to \(out)") }
    }
}
