import ArgumentParser
import Foundation
import KaopingServer

struct LinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Links of a round that are not invitations.",
        subcommands: [PublicLinks.self]
    )
}

struct PublicLinks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public",
        abstract: "Print each branch's public link (the poster's QR code) as CSV: UTF-8 with BOM, for Excel."
    )
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("out"), help: "File to write; '-' (the default) for standard output.") var out: String = "-"
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let base = try publicBaseURL(options, override: publicURL)
        let links = try await CommandState.run(options.flags) { state in try await state.services().roundRepository.publicLinks(id) }
        guard let links else {
            throw fail("no round \(round)", code: 1)
        }
        try OutputFile(out).write(InvitationCSV.publicLinks(links, publicBaseURL: base))
        if out != "-" { say("wrote \(links.count) public link(s) to \(out)") }
    }
}
