import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens for /api/v1 (see /api/v1/openapi.yaml).",
        subcommands: [CreateToken.self, ListTokens.self, RevokeToken.self]
    )
}

struct CreateToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token and print it (once; only its hash is kept).")
    @Option(help: "What the token is for.") var name: String
    @Flag(help: "Let the token also post performance results (POST /api/v1/performance); tokens only read otherwise.") var write = false
    @Flag(help: "Let the token also read the members' appraisal results (GET /api/v1/appraisals/{id}/results), which no other token reads.")
    var appraisals = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let name = self.name
        guard !(write && appraisals) else { throw fail("a token is either --write or --appraisals, not both", code: 2) }
        let scope: APIScope = write ? .write : appraisals ? .appraisals : .read
        let issued = try await CommandState.run(options.flags) { state in
            try await state.services().tokens.issue(name: name, scope: scope, actor: .commandLine, logger: state.logger)
        }
        // The service checks the name, as it does for the page.
        guard let issued else { throw fail("--name must be 1 to \(TokenService.longestName) characters", code: 2) }
        say(issued.token)
    }
}

struct ListTokens: AsyncParsableCommand {
    static func state(_ state: APIToken.State) -> String {
        switch state {
        case .live: "live   "
        case .revoked: "revoked"
        case .makerWithoutAccess: "stopped (maker disabled or not an administrator)"
        }
    }

    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never the tokens themselves).")
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let tokens = try await CommandState.run(options.flags) { state in try await state.services().tokens.list() }
        for token in tokens {
            say(
                "\(token.id.uuidString.lowercased())  \(Self.state(token.state))  \(token.scope.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  \(ChinaTime.format(token.createdAt))  by \(token.maker ?? "command line")  last used \(token.lastUsedOn ?? "never")  \(token.name)"
            )
        }
    }
}

struct RevokeToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token: requests with it are refused from now on.")
    @Argument(help: "Token id (from 'kaoping token list').") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        guard let id = UUID(uuidString: id) else { throw fail("'\(self.id)' is not a token id", code: 2) }
        let revoked = try await CommandState.run(options.flags) { state in
            try await state.services().tokens.revoke(id: id, actor: .commandLine, logger: state.logger)
        }
        guard revoked else { throw fail("no live token \(self.id)", code: 1) }
        say("revoked")
    }
}
