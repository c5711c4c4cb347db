import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import Logging

/// A round's files for Excel: the ranking (CSV and workbook), every anonymous answer and every
/// evaluator's sheet (both streamed). Administrators only.
public struct ResultsDownloadsController: Sendable {
    let results: ResultsService
    let repository: ResultsRepository
    let forms: FormRepository
    let database: Database

    public init(services: KaopingServices) {
        self.results = services.results
        self.repository = services.resultsRepository
        self.forms = services.forms
        self.database = services.database
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.resultsCSV(SiteURL.id).route, use: resultsCSV)
        router.get(SiteURL.resultsXLSX(SiteURL.id).route, use: resultsXLSX)
        router.get(SiteURL.responsesCSV(SiteURL.id).route, use: responsesCSV)
        router.get(SiteURL.sheetsCSV(SiteURL.id).route, use: sheetsCSV)
    }

    /// The ranking as CSV for Excel; `?lang=en` for English headers.
    @Sendable func resultsCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let id = round.id
        let language = Self.downloadLanguage(request)
        return .csvDownload(
            ResultsTable.csv(current.result, language: language),
            disposition: Self.resultsDisposition(
                id,
                title: round.summary.title,
                what: "results",
                provisional: current.provisional,
                suffix: "csv",
                language: language
            )
        )
    }

    /// A results download's name: the round's title, what it holds, and whether the figures
    /// are final (`download_results` + `download_final`, with an ASCII fallback).
    static func resultsDisposition(
        _ id: UUID,
        title: String,
        what: String,
        provisional: Bool,
        suffix: String,
        language: Language
    ) -> String {
        let kind = provisional ? "provisional" : "final"
        return Response.roundDownload(
            title: title,
            parts: [language.text("download_\(what)"), language.text("download_\(kind)")],
            suffix: suffix,
            fallback: "\(what)-\(id.uuidString.prefix(8).lowercased())-\(kind)"
        )
    }

    /// The results as an Excel workbook, written to a temporary file and sent in pieces.
    @Sendable func resultsXLSX(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let id = round.id
        let sheet = try await results.integratedSheet(round, current, logger: context.logger)
        let language = Self.downloadLanguage(request)
        let path = try await repository.workbook(roundID: id, result: current.result, integrated: sheet?.sheet, language: language)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: Self.resultsDisposition(
                    id,
                    title: round.summary.title,
                    what: "results",
                    provisional: current.provisional,
                    suffix: "xlsx",
                    language: language
                ),
                .cacheControl: "no-store",
            ],
            body: ResponseBody(contentLength: size) { writer in
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard let file = FileHandle(forReadingAtPath: path) else { throw AppError.notFound }
                defer { try? file.close() }
                while let data = try file.read(upToCount: 64 * 1024), !data.isEmpty {
                    try await writer.write(ByteBuffer(bytes: data))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Every evaluator's score sheet, item by item, with who scored, streamed.
    @Sendable func sheetsCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try context.resolvedRound()
        let id = round.id
        let (database, logger) = (self.database, context.logger)
        return streamedCSV(round, request: request, part: "download_sheets", fallback: "sheets") { language, write in
            try await SheetsExport.csv(roundID: id, database: database, language: language, logger: logger, write: write)
        }
    }

    /// Every anonymous answer of the round, streamed.
    @Sendable func responsesCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try context.resolvedRound()
        let (id, threshold) = (round.id, round.configuration.anonymityThreshold)
        let (database, forms, logger) = (self.database, self.forms, context.logger)
        return streamedCSV(round, request: request, part: "download_answers", fallback: "responses") { language, write in
            try await ResponsesExport.csv(
                roundID: id,
                threshold: threshold,
                database: database,
                forms: forms,
                language: language,
                logger: logger,
                write: write
            )
        }
    }

    /// A round's table streamed as CSV, named after the round and what it holds.
    private func streamedCSV(
        _ round: ResultsService.Round,
        request: Request,
        part: String,
        fallback: String,
        produce: @escaping @Sendable (Language, _ write: (String) async throws -> Void) async throws -> Void
    ) -> Response {
        let language = Self.downloadLanguage(request)
        return .csvDownload(
            disposition: Response.roundDownload(
                title: round.summary.title,
                parts: [language.text(part)],
                suffix: "csv",
                fallback: "\(fallback)-\(round.id.uuidString.prefix(8).lowercased())"
            )
        ) { write in try await produce(language, write) }
    }

    /// Downloads are Chinese unless `?lang=en` asks for English headers, whatever the page's
    /// language: the committee's copy is the Chinese one.
    static func downloadLanguage(_ request: Request) -> Language {
        request.uri.queryParameters["lang"] == "en" ? .english : .chinese
    }
}
