import Foundation
import Logging
import PostgresNIO

/// Importing the office's lists (branches, members, units) and a year's performance results,
/// from a CSV file or an Excel workbook: checked first (every bad row named), then imported
/// whole in one transaction with its audit entry, or not at all. The upload page, the preview
/// and `kaoping import …` all go through here.
public struct ImportService: Sendable {
    let database: Database
    let organisation: OrganisationRepository
    let performance: PerformanceRepository

    public init(database: Database, organisation: OrganisationRepository, performance: PerformanceRepository) {
        self.database = database
        self.organisation = organisation
        self.performance = performance
    }

    /// A file read and checked against what the database holds now.
    public enum Preview: Sendable {
        case branches(ImportPreview<BranchRow>)
        case members(ImportPreview<MemberRow>)
        case units(ImportPreview<UnitRow>)
        case performance(ImportPreview<PerformanceRow>)

        public var problems: [ImportProblem] {
            switch self {
            case .branches(let preview): preview.problems
            case .members(let preview): preview.problems
            case .units(let preview): preview.problems
            case .performance(let preview): preview.problems
            }
        }

        public var canImport: Bool {
            switch self {
            case .branches(let preview): preview.canImport
            case .members(let preview): preview.canImport
            case .units(let preview): preview.canImport
            case .performance(let preview): preview.canImport
            }
        }

        public var encoding: CSVText.Encoding? {
            switch self {
            case .branches(let preview): preview.encoding
            case .members(let preview): preview.encoding
            case .units(let preview): preview.encoding
            case .performance(let preview): preview.encoding
            }
        }
    }

    /// What an import did.
    public enum Outcome: Sendable, Equatable {
        /// Rows of a list created and updated.
        case list(ImportSummary)
        /// A year's performance results stored as its next version.
        case performance(PerformanceRepository.Load)
    }

    /// A file to import and what it is.
    public struct File: Sendable {
        public let kind: OrganisationUpload.Kind
        public let content: [UInt8]
        public let fileName: String
        /// The year a performance file is for.
        public let year: Int?
        /// Where performance results come from, for the record.
        public let source: String

        public init(kind: OrganisationUpload.Kind, content: [UInt8], fileName: String, year: Int? = nil, source: String = "") {
            self.kind = kind
            self.content = content
            self.fileName = fileName
            self.year = year
            self.source = source
        }
    }

    public func preview(_ kind: OrganisationUpload.Kind, content: [UInt8]) async throws -> Preview {
        switch kind {
        case .branches:
            return .branches(OrganisationCSV.branches(content, existing: try await organisation.branchCodes()))
        case .members:
            return .members(
                OrganisationCSV.members(
                    content,
                    knownBranches: try await organisation.branchCodes(),
                    knownStaff: try await organisation.staffNumbers()
                )
            )
        case .units:
            return .units(OrganisationCSV.units(content, knownBranches: try await organisation.branchCodes()))
        case .performance:
            return .performance(OrganisationCSV.performance(content, knownUnits: try await performance.unitCodes()))
        }
    }

    /// Checks the file and imports it whole with its audit entry, in one transaction; a file
    /// with problems imports nothing and comes back with its preview (`outcome` nil).
    public func apply(_ file: File, actor: AuditActor, logger: Logger) async throws -> (preview: Preview, outcome: Outcome?) {
        let preview = try await preview(file.kind, content: file.content)
        guard preview.canImport, file.kind != .performance || file.year != nil else { return (preview, nil) }
        let outcome = try await database.transaction(logger: logger) { connection in
            try await apply(preview, file: file, actor: actor, on: connection, logger: logger)
        }
        return (preview, outcome)
    }

    /// Keeps an uploaded file for its preview and later import, with its audit entry: who
    /// uploaded what, even if it is never imported.
    public func upload(_ upload: OrganisationUpload, actor: AuditActor, logger: Logger) async throws -> UUID {
        try await database.transaction(logger: logger) { connection in
            let id = try await organisation.saveUpload(upload, by: actor.userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "org.import.uploaded",
                    actor: actor,
                    subject: upload.fileName,
                    details: ["kind": upload.kind.rawValue, "bytes": String(upload.content.count), "upload": id.uuidString.lowercased()]
                ),
                on: connection,
                logger: logger
            )
            return id
        }
    }

    /// Imports an uploaded file once: the upload is claimed in the import's own transaction,
    /// so a second click waits for the first and then finds it applied (`nil`). A file whose
    /// check now fails (the lists changed since its preview) throws `ImportRefused`.
    public func applyUpload(id: UUID, actor: AuditActor, logger: Logger) async throws -> Outcome? {
        guard let upload = try await organisation.upload(id: id) else { return nil }
        let file = File(kind: upload.kind, content: upload.content, fileName: upload.fileName, year: upload.year)
        let preview = try await preview(upload.kind, content: upload.content)
        guard preview.canImport, file.kind != .performance || file.year != nil else { throw ImportRefused(preview: preview) }
        return try await database.transaction(logger: logger) { connection -> Outcome? in
            var claimed = false
            for try await _ in try await connection.query(
                "UPDATE org_imports SET applied_at = now() WHERE id = \(id) AND applied_at IS NULL RETURNING 1",
                logger: logger
            ) { claimed = true }
            guard claimed else { return nil }
            return try await apply(preview, file: file, actor: actor, on: connection, logger: logger)
        }
    }

    /// What became of a year's results posted by the performance office's system.
    public enum PostedPerformance: Sendable {
        case stored(PerformanceRepository.Load)
        /// The document could not be read as one (not JSON, no year, no results).
        case unreadable(PerformanceDocument.Problem)
        /// Entries with problems, each numbered from 1 as `line`; nothing was stored.
        case refused([ImportProblem])
    }

    /// Stores a posted document's results as the year's next version, checked entry by entry
    /// by the same rules as a row of an uploaded file; with any problem, nothing is stored.
    public func applyPosted(_ body: Data, actor: AuditActor, logger: Logger) async throws -> PostedPerformance {
        let document: (year: Int, source: String, entries: [PerformanceDocument.Entry])
        do {
            document = try PerformanceDocument.read(body)
        } catch {
            return .unreadable(error)
        }
        let known = try await performance.unitCodes()
        var rows: [PerformanceRow] = []
        var problems: [ImportProblem] = []
        var seen: [String: Int] = [:]
        for (index, entry) in document.entries.enumerated() {
            let number = index + 1
            guard let row = OrganisationCSV.performanceRow(line: number, entry.columns, knownUnits: known, problems: &problems) else { continue }
            if let first = seen[row.unitCode] {
                problems.append(ImportProblem(line: number, kind: .duplicate(row.unitCode, firstLine: first)))
                continue
            }
            seen[row.unitCode] = number
            rows.append(row)
        }
        guard problems.isEmpty else { return .refused(problems) }
        let checked = rows
        return .stored(
            try await database.transaction(logger: logger) { connection in
                try await performance.importResults(
                    year: document.year,
                    checked,
                    source: document.source,
                    fileName: "api",
                    actor: actor,
                    on: connection,
                    logger: logger
                )
            }
        )
    }

    private func apply(_ preview: Preview, file: File, actor: AuditActor, on connection: PostgresConnection, logger: Logger) async throws -> Outcome {
        let summary: ImportSummary
        switch preview {
        case .branches(let checked): summary = try await organisation.importBranches(checked.rows, on: connection, logger: logger)
        case .members(let checked): summary = try await organisation.importMembers(checked.rows, on: connection, logger: logger)
        case .units(let checked): summary = try await performance.importUnits(checked.rows, on: connection, logger: logger)
        case .performance(let checked):
            // Its audit entry names the year and version.
            return .performance(
                try await performance.importResults(
                    year: file.year!,
                    checked.rows,
                    source: file.source,
                    fileName: file.fileName,
                    actor: actor,
                    on: connection,
                    logger: logger
                )
            )
        }
        try await AuditLog.record(
            .init(
                action: "org.import.\(file.kind.rawValue)",
                actor: actor,
                subject: file.fileName,
                details: ["created": "\(summary.created)", "updated": "\(summary.updated)"]
            ),
            on: connection,
            logger: logger
        )
        return .list(summary)
    }
}

/// A file that can no longer be imported as it was previewed.
public struct ImportRefused: Error {
    public let preview: ImportService.Preview
}
