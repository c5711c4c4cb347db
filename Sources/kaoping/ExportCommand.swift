import ArgumentParser
import Foundation
import KaopingAggregation
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

    init(_ path: String) throws {
        if path == "-" {
            handle = .standardOutput
            return
        }
        // Opened where it is, not replaced: creating the file anew writes a copy and renames it
        // over the path, which turned `--out /dev/null` into a regular file and would replace a
        // link with a file of its own.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw fail("cannot write \(path)", code: 1) }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    func write(_ text: String) {
        handle.write(Data(text.utf8))
    }

    func write(_ data: Data) {
        handle.write(data)
    }
}

struct ExportResults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "The ranking with every group's score and n, grades, veto and quota, as on the results page."
    )
    @OptionGroup var export: ExportOptions
    @Option(help: "File format: csv or xlsx.") var format: String = "csv"

    func run() async throws {
        guard format == "csv" || format == "xlsx" else { throw fail("unknown format '\(format)': csv or xlsx", code: 2) }
        guard format == "csv" || export.out != "-" else { throw fail("an xlsx workbook needs --out FILE", code: 2) }
        let id = try roundID(export.round)
        let language: Language = export.english ? .english : .chinese
        let format = self.format
        let csv: String?? = try await withServices(export.options) { services, logger in
            let results = services.resultsRepository
            guard let round = try await services.results.round(id), let current = try await services.results.current(round, logger: logger)
            else { return nil }
            if format == "csv" { return ResultsTable.csv(current.result, language: language) }
            // With the integrated sheet, when the round's performance year has results.
            let integrated = try await services.results.integratedSheet(round, current, logger: logger)?.sheet
            let path = try await results.workbook(roundID: id, result: current.result, integrated: integrated, language: language)
            try? FileManager.default.removeItem(atPath: export.out)
            try FileManager.default.moveItem(atPath: path, toPath: export.out)
            return .some(nil)
        }
        guard let written = csv else { throw fail("no round \(export.round)", code: 1) }
        if let text = written { try OutputFile(export.out).write(text) }
    }
}

struct ExportResponses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responses",
        abstract: "Every anonymous answer of the round, one line per answer (no identities, dates only)."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws {
        let id = try roundID(export.round)
        let language: Language = export.english ? .english : .chinese
        let output = try OutputFile(export.out)
        let found = try await withServices(export.options) { services, logger in
            guard let configuration = try await services.rounds.configuration(id) else { return false }
            try await ResponsesExport.csv(
                roundID: id,
                threshold: configuration.anonymityThreshold,
                database: services.database,
                forms: services.forms,
                language: language,
                logger: logger
            ) { chunk in
                output.write(chunk)
            }
            return true
        }
        guard found else { throw fail("no round \(export.round)", code: 1) }
    }
}
