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
            ExportCommand.self, TalliesCommand.self, TokenCommand.self, ObjectionsCommand.self, AppraisalCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// The program: runs the command line it was given on the process's console and ends with
    /// the command's status.
    public static func runProgram() async {
        let status = await run(Array(CommandLine.arguments.dropFirst()))
        Foundation.exit(status)
    }

    /// Runs one command line on `Console.current` and returns its exit status, as ArgumentParser's
    /// own entry point would, except that a `CommandFailure` is said in its one line with its
    /// status after the command has unwound (and stopped what it started). Tests call this
    /// in-process, each with a console of its own.
    public static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch let failure as CommandFailure {
            complain("kaoping: \(failure.message)")
            return failure.status
        } catch {
            let status = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if status == 0 { say(message) } else { complain(message) }
            }
            return status
        }
    }
}
