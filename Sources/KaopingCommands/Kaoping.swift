import ArgumentParser
import Foundation
import KaopingServer

/// The `kaoping` program: every subcommand. The executable target only calls `main()`, so the
/// commands are a library the tests can reach.
public struct Kaoping: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "kaoping",
        abstract: "Kaoping (考评): party-branch evaluation server.",
        discussion: """
            Every setting can also come from a KAOPING_* environment variable (KAOPING_PORT, \
            KAOPING_DATABASE_URL, …); a flag wins over the environment, which wins over the default. \
            Without --database-url, Kaoping runs its own PostgreSQL cluster in <data-dir>/postgres.
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, BackupCommand.self, RestoreCommand.self, UserCommand.self, FormsCommand.self, ImportCommand.self,
            RoundCommand.self, InvitationsCommand.self, LinksCommand.self, VisitsCommand.self, CloseDueCommand.self, ResultsCommand.self,
            ExportCommand.self, TokenCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// As ArgumentParser's own entry point, but a `CommandFailure` ends the program with its one
    /// line and status after it has unwound (and stopped what it started).
    public static func runProgram() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("kaoping: \(failure.message)\n".utf8))
            Foundation.exit(failure.status)
        } catch {
            exit(withError: error)
        }
    }
}
