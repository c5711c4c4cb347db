import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// A round's integrated sheet as it stands, and whether it is frozen with the closed round.
public struct CurrentIntegratedSheet: Sendable {
    public let sheet: IntegratedSheet
    public let frozen: Bool
    /// A version of the year's performance results newer than the one the frozen sheet read.
    public let newerVersion: Int?
    public let provisional: Bool
}

/// A round's integrated sheet (`docs/integration.md`): its party-building results read with one
/// version of the year's performance results. A closed round's sheet is stored once, at close
/// (or when its year's results first arrive, or when an administrator adopts a later version),
/// and read from then on; an open round's is computed from its provisional results.
public struct IntegratedSheets: Sendable {
    /// Where sheets are frozen.
    let database: Database
    /// Where stored sheets are read (a standby's pool, or `database`).
    let reads: Database
    let performance: PerformanceRepository
    /// Frozen sheets as decoded, by round and the time they were stored: a province's sheet is
    /// tens of thousands of rows, read by every view of it; adopting a version stores anew.
    let decoded = TimedCache<StoredKey, IntegratedSheet>(lifetime: .seconds(3600), capacity: 8)

    public init(database: Database, reads: Database? = nil, performance: PerformanceRepository) {
        self.database = database
        self.reads = reads ?? database
        self.performance = performance
    }

    /// The year a round is read with.
    static func performanceYear(_ configuration: RoundConfiguration, roundYear: Int) -> Int {
        configuration.integrationSettings.performanceYear ?? roundYear
    }

    /// The round's sheet: the stored one for a closed round (stored now if the year's results
    /// have arrived since the close), else computed. `nil` when the year has no results.
    public func current(
        roundID: UUID,
        roundYear: Int,
        configuration: RoundConfiguration,
        results current: CurrentResults,
        logger: Logger
    ) async throws -> CurrentIntegratedSheet? {
        let year = Self.performanceYear(configuration, roundYear: roundYear)
        if !current.provisional {
            let stored = try await stored(roundID: roundID)
            let newest = try await performance.newestVersion(year: year)
            if let stored {
                let newer = newest.flatMap { $0 > (stored.performanceVersion ?? 0) ? $0 : nil }
                return CurrentIntegratedSheet(sheet: stored, frozen: true, newerVersion: newer, provisional: false)
            }
            guard newest != nil else { return nil }
            return try await freeze(roundID: roundID, version: nil, actor: nil, logger: logger).map {
                CurrentIntegratedSheet(sheet: $0, frozen: true, newerVersion: nil, provisional: false)
            }
        }
        guard let (version, units) = try await performance.unitResults(year: year, logger: logger) else { return nil }
        let sheet = IntegratedSheet.make(
            result: current.result,
            units: units,
            performanceYear: year,
            performanceVersion: version,
            settings: configuration.integrationSettings,
            bands: configuration.bands
        )
        return CurrentIntegratedSheet(sheet: sheet, frozen: false, newerVersion: nil, provisional: true)
    }

    struct StoredKey: Hashable, Sendable {
        let round: UUID
        let computedAt: Date
    }

    func stored(roundID: UUID) async throws -> IntegratedSheet? {
        guard
            let computedAt = try await reads.query("SELECT computed_at FROM integrated_sheets WHERE round_id = \(roundID)").first?.decode(
                Date.self
            )
        else { return nil }
        let key = StoredKey(round: roundID, computedAt: computedAt)
        if let sheet = decoded.value(for: key) { return sheet }
        guard let json = try await reads.query("SELECT sheet::text FROM integrated_sheets WHERE round_id = \(roundID)").first?.decode(String.self)
        else { return nil }
        let sheet = try JSONDecoder().decode(IntegratedSheet.self, from: Data(json.utf8))
        decoded.store(sheet, for: key)
        return sheet
    }

    /// Stores a closed round's sheet with the given version of its year's results (the newest
    /// when `nil`), replacing what was stored; an adoption by a person goes in the audit log.
    @discardableResult
    public func freeze(roundID: UUID, version: Int?, actor: AuditActor?, logger: Logger) async throws -> IntegratedSheet? {
        try await database.transaction(logger: logger) { connection in
            let sheet = try await Self.freeze(roundID: roundID, version: version, connection: connection, logger: logger)
            if let sheet, let actor {
                try await AuditLog.record(
                    .init(
                        action: "integration.frozen",
                        actor: actor,
                        subject: roundID.uuidString.lowercased(),
                        details: ["year": "\(sheet.performanceYear)", "version": sheet.performanceVersion.map(String.init) ?? ""]
                    ),
                    on: connection,
                    logger: logger
                )
            }
            return sheet
        }
    }

    /// In the caller's transaction (the close): the final results of the round with the year's
    /// results, stored. Nothing happens for a round without final results or a year without results.
    @discardableResult
    static func freeze(roundID: UUID, version: Int?, connection: PostgresConnection, logger: Logger) async throws -> IntegratedSheet? {
        var found: (String, String, Int)?
        for try await row in try await connection.query(
            """
            SELECT s.results::text, r.config::text, r.year FROM result_snapshots s JOIN rounds r ON r.id = s.round_id
            WHERE s.round_id = \(roundID) AND s.kind = 'final'
            """,
            logger: logger
        ).decode((String, String, Int).self) { found = row }
        guard let (resultJSON, configJSON, roundYear) = found else { return nil }
        let result = try JSONDecoder().decode(RoundResult.self, from: Data(resultJSON.utf8))
        let configuration = RoundRepository.configuration(json: configJSON)
        let year = performanceYear(configuration, roundYear: roundYear)
        guard let (chosen, units) = try await PerformanceRepository.unitResults(year: year, version: version, connection: connection, logger: logger)
        else { return nil }
        let sheet = IntegratedSheet.make(
            result: result,
            units: units,
            performanceYear: year,
            performanceVersion: chosen,
            settings: configuration.integrationSettings,
            bands: configuration.bands
        )
        let json = try RoundRepository.json(sheet)
        try await connection.execute(
            """
            INSERT INTO integrated_sheets (round_id, performance_year, performance_version, sheet)
            VALUES (\(roundID), \(year), \(chosen), \(json)::jsonb)
            ON CONFLICT (round_id) DO UPDATE SET performance_year = excluded.performance_year,
              performance_version = excluded.performance_version, sheet = excluded.sheet, computed_at = now()
            """,
            logger: logger
        )
        // The branches' business scores beside their year in the record over the years.
        try await connection.execute(
            """
            UPDATE branch_years y SET business_score = (b ->> 'businessScore')::float8
            FROM jsonb_array_elements(\(json)::jsonb -> 'branches') b
            WHERE y.round_id = \(roundID) AND y.branch_code = b ->> 'code'
            """,
            logger: logger
        )
        return sheet
    }
}
