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
    let publicity: PublicityRepository
    let database: Database

    public init(
        results: ResultsService,
        forms: FormRepository,
        invitations: InvitationRepository,
        publicity: PublicityRepository,
        database: Database
    ) {
        self.results = results
        self.forms = forms
        self.invitations = invitations
        self.publicity = publicity
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
        let publicity = try await self.publicity.state(id)
        func file(_ content: DownloadFile.Content, provisional: Bool? = nil) -> DownloadFile {
            let finality = provisional.map { Finality($0, status: round.summary.status, approval: publicity?.approval?.reference) }
            return Self.file(download, round: round, finality: finality, language: language, content: content)
        }
        switch download {
        case .results:
            guard let current = try await results.current(round, logger: logger) else { return nil }
            let forms = try await results.results.groupForms(roundID: id)
            return file(.text(ResultsTable.csv(current.result, forms: forms, language: language)), provisional: current.provisional)
        case .workbook:
            guard let current = try await results.current(round, logger: logger) else { return nil }
            let sheet = try await results.integratedSheet(round, current, logger: logger)
            let path = try await results.results.workbook(
                roundID: id,
                result: current.result,
                integrated: sheet?.sheet,
                status: Self.statusLines(round, publicity: publicity, language: language),
                language: language
            )
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

    /// How far a round's figures are from final, as a file's name says it: provisional while the
    /// round is open, proposed once closed, for public comment in publicity (公示稿), approved
    /// (定稿) with the sign-off's reference.
    /// The lines of a published or signed-off round's status sheet.
    static func statusLines(_ round: ResultsService.Round, publicity: Publicity?, language: Language) -> [(String, String)] {
        guard let publicity, publicity.status == .publicity || publicity.status == .approved else { return [] }
        var lines = [
            (language.text("col_round"), round.summary.title),
            (language.text("col_stage"), language.text("download_\(publicity.status == .approved ? "approved" : "publicity")")),
        ]
        if let start = publicity.startsAt, let end = publicity.endsAt {
            lines.append(
                (
                    language.text("publicity_period"),
                    language.text("publicity_period_value", ["start": ChinaTime.format(start), "end": ChinaTime.format(end)])
                )
            )
        }
        if let approval = publicity.approval {
            lines += [
                (language.text("approval_reference"), approval.reference),
                (language.text("approval_meeting"), approval.meetingOn),
                (language.text("approval_at"), ChinaTime.format(approval.approvedAt)),
                (language.text("approval_results_hash"), approval.resultsHash),
                (language.text("approval_config_hash"), approval.configHash),
            ]
        }
        return lines
    }

    static func file(
        _ download: RoundDownload,
        round: ResultsService.Round,
        finality: Finality?,
        language: Language,
        content: DownloadFile.Content
    ) -> DownloadFile {
        var parts = [language.text(download.nameKey)]
        var fallback = "\(download.fallbackName)-\(round.id.uuidString.prefix(8).lowercased())"
        if download.namesFinality, let finality {
            parts.append(language.text("download_\(finality.key)"))
            fallback += "-\(finality.key)"
            if case .approved(let reference) = finality, !reference.isEmpty { parts.append(reference) }
        }
        let unsafe = CharacterSet(charactersIn: "/\\:*?\"<>|").union(.controlCharacters)
        let title = String(String.UnicodeScalarView(round.summary.title.unicodeScalars.map { unsafe.contains($0) ? "-" : $0 }))
            .trimmingCharacters(in: .whitespaces)
        let suffix = "." + download.fileExtension
        let safeParts = parts.map { String(String.UnicodeScalarView($0.unicodeScalars.map { unsafe.contains($0) ? "-" : $0 })) }
        return DownloadFile(
            name: ([title.isEmpty ? "kaoping" : title] + safeParts).joined(separator: "-") + suffix,
            fallbackName: fallback + suffix,
            contentType: download.contentType,
            content: content
        )
    }
}
