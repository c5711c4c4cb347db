import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer
import Logging

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one of a round's files, as the admin area offers it (CSV for Excel, UTF-8 with BOM, or a workbook).",
        subcommands: [
            ExportResults.self, ExportWorkbook.self, ExportResponses.self, ExportSheets.self, ExportIntegrated.self, ExportIntegration.self,
            ExportRoundInvitations.self, ExportPending.self,
        ]
    )
}

struct ExportOptions: ParsableArguments {
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("out"), help: "File to write; '-' for standard output (CSV only).") var out: String
    @Flag(help: "English column headers.") var english = false
    @OptionGroup var options: RoundOptions
}

/// Writes `download` of the round to `--out`: the same file the admin area serves
/// (`DownloadService`).
func export(_ download: RoundDownload, _ export: ExportOptions, publicURL: String? = nil) async throws {
    guard download.fileExtension == "csv" || export.out != "-" else { throw fail("an xlsx workbook needs --out FILE", code: 2) }
    let id = try roundID(export.round)
    let language: Language = export.english ? .english : .chinese
    let base = download == .invitations ? try publicBaseURL(export.options, override: publicURL) : ""
    let out = export.out
    let outcome: ExportOutcome = try await CommandState.run(export.options.flags) { state in
        let services = try await state.services()
        let logger = state.logger
        guard let round = try await services.results.round(id) else { return .noRound }
        let file: DownloadFile?
        do {
            file = try await services.downloads.make(download, round: round, language: language, publicBaseURL: base, logger: logger)
        } catch ResultsRepository.ResultsError.notOpened {
            return .notOpened
        }
        guard let file else { return .nothingYet }
        try await write(file, to: out)
        return .written
    }
    switch outcome {
    case .written: return
    case .noRound: throw fail("no round \(export.round)", code: 1)
    case .notOpened: throw fail("round \(export.round) has not opened: it has no results yet", code: 1)
    case .nothingYet:
        let why = download == .integrated || download == .integration ? " (its year's performance results are not loaded)" : ""
        throw fail("round \(export.round) has no \(download.rawValue) yet\(why)", code: 1)
    }
}

/// Writes a download to `--out` ('-' for standard output), whatever form it came in.
func write(_ file: DownloadFile, to out: String) async throws {
    switch file.content {
    case .text(let text):
        try OutputFile(out).write(text)
    case .pieces(let produce):
        let output = try OutputFile(out)
        try await produce { output.write($0) }
    case .temporaryFile(let path):
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.moveItem(atPath: path, toPath: out)
    }
}

enum ExportOutcome: Sendable {
    case written, noRound, notOpened, nothingYet
}

struct ExportResults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "The ranking with every group's score and n, grades, veto and quota, as on the results page."
    )
    @OptionGroup var export: ExportOptions
    @Option(help: "File format: csv, or xlsx for the workbook (as 'export workbook').") var format: String = "csv"

    func run() async throws {
        guard format == "csv" || format == "xlsx" else { throw fail("unknown format '\(format)': csv or xlsx", code: 2) }
        try await KaopingCommands.export(format == "xlsx" ? .workbook : .results, export)
    }
}

struct ExportWorkbook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbook",
        abstract: "The results workbook: the ranking and every breakdown, a sheet each (needs --out FILE)."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.workbook, export) }
}

struct ExportResponses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responses",
        abstract: "Every anonymous answer of the round, one line per answer (no identities, dates only)."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.responses, export) }
}

struct ExportSheets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sheets", abstract: "Every evaluator's score sheet, item by item.")
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.sheets, export) }
}

struct ExportIntegrated: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integrated",
        abstract: "The integrated sheet for the performance office (once the year's performance results are loaded)."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.integrated, export) }
}

struct ExportIntegration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integration",
        abstract: "The two-skins diagnostic: each branch's party-building and business scores, ranks and quadrant."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.integration, export) }
}

struct ExportRoundInvitations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invitations", abstract: "Members' invitation links, for mail merge.")
    @OptionGroup var export: ExportOptions
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?

    func run() async throws { try await KaopingCommands.export(.invitations, export, publicURL: publicURL) }
}

struct ExportPending: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "Members with a live invitation who have not answered yet, for reminders."
    )
    @OptionGroup var export: ExportOptions

    func run() async throws { try await KaopingCommands.export(.pending, export) }
}

/// Writes pieces of a file as they come, to a file or standard output.
final class OutputFile: @unchecked Sendable {
    let handle: FileHandle?

    init(_ path: String) throws {
        if path == "-" {
            handle = nil
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
        write(Data(text.utf8))
    }

    func write(_ data: Data) {
        if let handle { handle.write(data) } else { Console.current.writeOutput(data) }
    }
}
