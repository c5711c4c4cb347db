import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import branch or member lists from CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it).",
        subcommands: [ImportBranches.self, ImportMembers.self]
    )
}

/// Messages in Chinese when the terminal's language is Chinese, else English.
private var language: Language {
    let locale = ProcessInfo.processInfo.environment["LC_ALL"] ?? ProcessInfo.processInfo.environment["LANG"] ?? ""
    return locale.lowercased().hasPrefix("zh") ? .chinese : .english
}

private func report<Row>(_ preview: ImportPreview<Row>, file: String) {
    let lines = preview.problems.map { "\(file): \($0.message(language))" }
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    let note = language.text("import_nothing_imported")
    FileHandle.standardError.write(Data((note + "\n").utf8))
}

private func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)", code: 1) }
    return Array(data)
}

/// Reads and checks the file, then imports all of it in one transaction, or reports every bad
/// row and imports nothing.
private func runImport<Row: Sendable>(
    _ kind: String,
    file: String,
    options: DatabaseOptions,
    check: @escaping @Sendable ([UInt8], OrganisationRepository) async throws -> ImportPreview<Row>,
    apply: @escaping @Sendable ([Row], OrganisationRepository, Logger) async throws -> ImportSummary
) async throws -> (ImportSummary, encoding: String) {
    let configuration = try resolveConfiguration(options.flags)
    LogSetup.bootstrap(level: max(configuration.logLevel, .warning), format: configuration.logFormat)
    let logger = Logger(label: "kaoping")
    let bytes = try readFile(file)
    let outcome: (ImportPreview<Row>, ImportSummary?) = try await withMigratedDatabase(configuration, logger: logger) { database in
        let repository = OrganisationRepository(database: database)
        let preview = try await check(bytes, repository)
        guard preview.canImport else { return (preview, nil) }
        let summary = try await apply(preview.rows, repository, logger)
        try await AuditLog(database: database).record(
            .init(
                action: "org.import.\(kind)",
                actorName: "cli",
                subject: file,
                details: ["created": "\(summary.created)", "updated": "\(summary.updated)"]
            )
        )
        return (preview, summary)
    }
    guard let summary = outcome.1 else {
        report(outcome.0, file: file)
        throw ExitCode(1)
    }
    return (summary, outcome.0.encoding?.rawValue ?? "?")
}

struct ImportBranches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branches",
        abstract: "Import branches (columns 支部编码/code, 支部名称/name, and optionally 上级组织/parent, 支部书记/secretary).",
        discussion: "Branches are matched by code: importing again updates them. The whole file is imported, or nothing."
    )

    @Argument(help: "The CSV file.")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (summary, encoding) = try await runImport(
            "branches",
            file: file,
            options: database,
            check: { bytes, _ in OrganisationCSV.branches(bytes) },
            apply: { rows, repository, logger in try await repository.importBranches(rows, logger: logger) }
        )
        print(
            language.text("import_done_branches", ["created": summary.created, "updated": summary.updated, "encoding": encoding])
        )
    }
}

struct ImportMembers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "Import members (columns 工号/staff number, 姓名/name, 支部编码/branch code, and optionally 手机/phone).",
        discussion: "Members are matched by staff number: importing again updates them. The whole file is imported, or nothing."
    )

    @Argument(help: "The CSV file.")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (summary, encoding) = try await runImport(
            "members",
            file: file,
            options: database,
            check: { bytes, repository in OrganisationCSV.members(bytes, knownBranches: try await repository.branchCodes()) },
            apply: { rows, repository, logger in try await repository.importMembers(rows, logger: logger) }
        )
        print(
            language.text("import_done_members", ["created": summary.created, "updated": summary.updated, "encoding": encoding])
        )
    }
}
