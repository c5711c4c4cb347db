// KaopingCommands: the `kaoping` program's subcommands, one file per command group. Each
// parses its options, asks its `CommandState` for the services and calls the same service
// function the admin area calls, then says what happened on its `Console`.

import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the database (pg_dump, custom format); safe while the server runs.",
        discussion: "Keep the secret file (<data-dir>/secret) too, apart from the backups: invitation links depend on it."
    )
    @Option(name: .customLong("out"), help: "The backup file to write.") var out: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let out = self.out
        let database = try await CommandState.run(database.flags, quietest: nil) { state in
            let prepared = try await state.prepare()
            do {
                try await DatabaseBackup.dump(prepared.url, to: out)
            } catch {
                throw fail("\(error)", code: 1)
            }
            return prepared.url.database
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        say("wrote a backup of \(database) to \(out) (\(size / 1024) KiB); restore it with: kaoping restore \(out)")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Load a backup made by 'kaoping backup' into an empty data directory or database (a non-empty one is refused).",
        discussion: "Put the secret file of the backed-up installation back as well (--secret-file), or the old invitation links stop working."
    )
    @Argument(help: "The backup file.") var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw fail("cannot read \(file)", code: 1) }
        let file = self.file
        let database = try await CommandState.run(database.flags, quietest: nil) { state in
            let prepared = try await state.prepare()
            do {
                try await DatabaseBackup.restore(file, into: prepared.url, logger: state.logger)
            } catch {
                throw fail("\(error)", code: 1)
            }
            return prepared.url.database
        }
        say("restored \(file) into \(database); start the server with: kaoping serve")
    }
}
