import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a round's results or its anonymous answers as CSV for Excel (UTF-8 with BOM).",
        subcommands: [ExportResults.self, ExportResponses.self]
    )
}

struct ExportOptions: ParsableArguments {
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("out"), help: "File to write; '-' for standard output.") var out: String
    @Flag(help: "English column headers.") var english = false
    @OptionGroup var options: RoundOptions
}

/// Writes pieces of a file as they come, to a file or standard output.
final class OutputFile: @unchecked Sendable {
    let handle: FileHandle

    init(_ path: String) {
        if path == "-" {
            handle = .standardOutput
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            fail("cannot write \(path)", code: 1)
        }
        self.handle = handle
    }

    func write(_ text: String) {
        handle.write(Data(text.utf8))
    }
}

struct ExportResults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "The ranking with every group's score and n, grades, veto and quota, as on the results page."
    )
    @OptionGroup var export: ExportOptions
    @Option(help: "File format: csv.") var format: String = "csv"

    func run() async throws {
        guard format == "csv" else { fail("unknown format '\(format)': csv", code: 2) }
        let id = roundID(export.round), english = export.english
        let csv: String? = try await withRounds(export.options) { rounds, logger in
            let results = ResultsRepository(database: rounds.database, forms: PostgresFormRepository(database: rounds.database))
            return try await results.current(roundID: id, logger: logger).map { ResultsTable.csv($0.result, english: english) }
        }
        guard let csv else { fail("no round \(export.round)", code: 1) }
        OutputFile(export.out).write(csv)
    }
}

struct ExportResponses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responses",
        abstract: "Every anonymous answer of the round, one line per answer (no identities, dates only)."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws {
        let id = roundID(export.round), english = export.english
        let output = OutputFile(export.out)
        try await withRounds(export.options) { rounds, logger in
            try await ResponsesExport.csv(roundID: id, database: rounds.database, english: english, logger: logger) { chunk in
                output.write(chunk)
            }
        }
    }
}
