import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer
import Logging

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the office's lists (branches, members, units) and a year's performance results.",
        discussion: """
            Each takes an Excel workbook (.xlsx, its first sheet) or a CSV file (UTF-8 with or without \
            BOM, or GB18030 as Excel saves it). Every bad row is named with its line; a file with \
            problems imports nothing.
            """,
        subcommands: [ImportBranches.self, ImportMembers.self, ImportUnits.self, ImportPerformance.self]
    )
}

/// Messages in Chinese when the terminal's language is Chinese, else English.
private var language: Language {
    let environment = Console.current.environment
    let locale = environment["LC_ALL"] ?? environment["LANG"] ?? ""
    return locale.lowercased().hasPrefix("zh") ? .chinese : .english
}

private func report(_ problems: [ImportProblem], file: String) {
    for problem in problems { complain("\(file): \(problem.message(language))") }
    complain(language.text("import_nothing_imported"))
}

private func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)", code: 1) }
    return Array(data)
}

/// Reads and checks the file, then imports all of it in one transaction, or reports every bad
/// row and imports nothing.
private func runImport(_ file: ImportService.File, path: String, options: DatabaseOptions) async throws -> (ImportService.Outcome, encoding: String) {
    let (preview, outcome) = try await CommandState.run(options.flags) { state in
        try await state.services().imports.apply(file, actor: .commandLine, logger: state.logger)
    }
    guard let outcome else {
        report(preview.problems, file: path)
        throw ExitCode(1)
    }
    return (outcome, preview.encoding?.rawValue ?? "?")
}

/// A list's import, and the counts it reports.
private func importList(_ kind: OrganisationUpload.Kind, path: String, options: DatabaseOptions) async throws -> (ImportSummary, encoding: String) {
    let file = ImportService.File(kind: kind, content: try readFile(path), fileName: path)
    guard case (.list(let summary), let encoding) = try await runImport(file, path: path, options: options) else {
        throw fail("unexpected import outcome", code: 1)
    }
    return (summary, encoding)
}

struct ImportBranches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branches",
        abstract: "Import branches (columns 支部编码/code, 支部名称/name, and optionally 上级组织/parent, 支部书记/secretary).",
        discussion: "Branches are matched by code: importing again updates them. The whole file is imported, or nothing."
    )

    @Argument(help: "The list: an Excel workbook (.xlsx) or a CSV file.")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (summary, encoding) = try await importList(.branches, path: file, options: database)
        say(
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

    @Argument(help: "The list: an Excel workbook (.xlsx) or a CSV file.")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (summary, encoding) = try await importList(.members, path: file, options: database)
        say(
            language.text("import_done_members", ["created": summary.created, "updated": summary.updated, "encoding": encoding])
        )
    }
}

struct ImportUnits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units",
        abstract: "Import business units (columns 单位编码/unit code, 单位名称/name, 支部编码/branch code, and optionally 人数/headcount).",
        discussion: """
            A branch may cover several units; a unit's headcount weights its performance score in its branch's \
            business score (docs/integration.md). Units are matched by code: importing again updates them, and a unit \
            given another branch has moved. The whole file is imported, or nothing.
            """
    )

    @Argument(help: "The list: an Excel workbook (.xlsx) or a CSV file.")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (summary, encoding) = try await importList(.units, path: file, options: database)
        say(language.text("import_done_units", ["created": summary.created, "updated": summary.updated, "encoding": encoding]))
    }
}

struct ImportPerformance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "performance",
        abstract: "Import a year's performance results per unit (columns 单位编码/unit code, 得分/score 0–100 and/or 等次/grade).",
        discussion: """
            Other columns are kept as indicators under their headers. Importing a year again stores a new version; \
            the earlier ones are kept. The whole file is imported, or nothing.
            """
    )

    @Argument(help: "The list: an Excel workbook (.xlsx) or a CSV file.")
    var file: String
    @Option(help: "The year the results are for.") var year: Int
    @Option(help: "Where the results come from (for the record), e.g. 2026 年度机关绩效考评.") var source: String = ""
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard EvaluationYear.plausible.contains(year) else {
            throw fail("--year must be between \(EvaluationYear.plausible.lowerBound) and \(EvaluationYear.plausible.upperBound), not \(year)")
        }
        let fileName = URL(fileURLWithPath: file).lastPathComponent
        let upload = ImportService.File(kind: .performance, content: try readFile(file), fileName: fileName, year: year, source: source)
        let (outcome, encoding) = try await runImport(upload, path: file, options: database)
        guard case .performance(let load) = outcome else { throw fail("unexpected import outcome", code: 1) }
        say(
            language.text(
                "import_done_performance",
                ["year": load.year, "version": load.version, "count": load.units, "encoding": encoding]
            )
        )
    }
}
