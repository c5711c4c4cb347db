// Downloads: every file of a round (RoundDownload), made once for the admin area and
// `kaoping export`.

import Foundation
import KaopingAggregation
import Logging

/// A file ready to send or write: its name and what is in it.
public struct DownloadFile: Sendable {
    public enum Content: Sendable {
        /// Small enough to hold.
        case text(String)
        /// Written piece by piece as the database hands the rows over: a province's answers are
        /// millions of lines.
        case pieces(@Sendable (_ write: (String) async throws -> Void) async throws -> Void)
        /// A temporary file (the workbook, written by libxlsxwriter); whoever takes it removes it.
        case temporaryFile(path: String)
    }

    /// As people read it: the round's title, what the file holds and, for results, whether they
    /// are final, e.g. 2026年度党支部工作考评-结果-暂定.csv.
    public let name: String
    /// ASCII, for clients that cannot take `name`.
    public let fallbackName: String
    public let contentType: String
    public let content: Content
}

/// Makes every file of `RoundDownload` for a round, for the admin area and `kaoping export`
/// alike.
public struct DownloadService: Sendable {
    let results: ResultsService
    let forms: FormRepository
    let invitations: InvitationRepository
    let database: Database

    public init(results: ResultsService, forms: FormRepository, invitations: InvitationRepository, database: Database) {
        self.results = results
        self.forms = forms
        self.invitations = invitations
        self.database = database
    }

    /// The file, or `nil` when the round has none of that kind yet (an integrated sheet or a
    /// diagnostic before the year's business results). Results of a round that has not opened
    /// throw `ResultsRepository.ResultsError.notOpened`.
    public func make(
        _ download: RoundDownload,
        round: ResultsService.Round,
        language: Language,
        publicBaseURL: String,
        logger: Logger
    ) async throws -> DownloadFile? {
        let id = round.id
        func file(_ content: DownloadFile.Content, provisional: Bool? = nil) -> DownloadFile {
            Self.file(download, round: round, provisional: provisional, language: language, content: content)
        }
        switch download {
        case .results:
            guard let current = try await results.current(round, logger: logger) else { return nil }
            let forms = try await results.results.groupForms(roundID: id)
            return file(.text(ResultsTable.csv(current.result, forms: forms, language: language)), provisional: current.provisional)
        case .workbook:
            guard let current = try await results.current(round, logger: logger) else { return nil }
            let sheet = try await results.integratedSheet(round, current, logger: logger)
            let path = try await results.results.workbook(roundID: id, result: current.result, integrated: sheet?.sheet, language: language)
            return file(.temporaryFile(path: path), provisional: current.provisional)
        case .integrated:
            guard let current = try await results.current(round, logger: logger),
                let sheet = try await results.integratedSheet(round, current, logger: logger)
            else { return nil }
            let forms = try await results.results.groupForms(roundID: id)
            return file(.text(IntegratedTable.csv(sheet.sheet, forms: forms, language: language)), provisional: sheet.provisional)
        case .integration:
            guard let current = try await results.current(round, logger: logger),
                let diagnostic = try await results.diagnostic(round, current).diagnostic
            else { return nil }
            return file(.text(DiagnosticTable.csv(diagnostic, language: language)), provisional: current.provisional)
        case .responses:
            let (database, forms, threshold) = (self.database, self.forms, round.configuration.anonymityThreshold)
            return file(
                .pieces { write in
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
            )
        case .sheets:
            let database = self.database
            let forms = try await results.results.groupForms(roundID: id)
            return file(
                .pieces { write in
                    try await SheetsExport.csv(roundID: id, forms: forms, database: database, language: language, logger: logger, write: write)
                }
            )
        case .invitations:
            return file(.text(InvitationCSV.links(try await invitations.links(roundID: id), publicBaseURL: publicBaseURL)))
        case .pending:
            return file(.text(InvitationCSV.pending(try await invitations.pending(roundID: id))))
        }
    }

    static func file(
        _ download: RoundDownload,
        round: ResultsService.Round,
        provisional: Bool?,
        language: Language,
        content: DownloadFile.Content
    ) -> DownloadFile {
        var parts = [language.text(download.nameKey)]
        var fallback = "\(download.fallbackName)-\(round.id.uuidString.prefix(8).lowercased())"
        if download.namesFinality, let provisional {
            let finality = provisional ? "provisional" : "final"
            parts.append(language.text("download_\(finality)"))
            fallback += "-\(finality)"
        }
        let unsafe = CharacterSet(charactersIn: "/\\:*?\"<>|").union(.controlCharacters)
        let title = String(String.UnicodeScalarView(round.summary.title.unicodeScalars.map { unsafe.contains($0) ? "-" : $0 }))
            .trimmingCharacters(in: .whitespaces)
        let suffix = "." + download.fileExtension
        return DownloadFile(
            name: ([title.isEmpty ? "kaoping" : title] + parts).joined(separator: "-") + suffix,
            fallbackName: fallback + suffix,
            contentType: download.contentType,
            content: content
        )
    }
}
