import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// Business units (处室, 科室) and their annual performance results (绩效), read beside the
/// party-building results (`docs/integration.md`).
public struct PerformanceRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func unitCodes() async throws -> Set<String> {
        Set(try await database.query("SELECT code FROM units").map { try $0.decode(String.self) })
    }

    /// Creates or updates every unit, all in one transaction, matched by code: a unit imported
    /// again with another branch has moved to it.
    public func importUnits(_ rows: [UnitRow], logger: Logger) async throws -> ImportSummary {
        try await database.transaction(logger: logger) { connection in try await importUnits(rows, on: connection, logger: logger) }
    }

    /// The same, in the caller's transaction (with the caller's audit entry).
    func importUnits(_ rows: [UnitRow], on connection: PostgresConnection, logger: Logger) async throws -> ImportSummary {
        let json = JSONText.array(
            rows.map { row in
                JSONText.object([
                    ("code", JSONText.string(row.code)), ("name", JSONText.string(row.name)), ("branch", JSONText.string(row.branchCode)),
                    ("headcount", row.headcount.map { String($0) } ?? "null"),
                ])
            }
        )
        let expected = rows.count
        let written = try await connection.query(
            """
            INSERT INTO units (code, name, branch_id, headcount)
            SELECT r.code, r.name, b.id, r.headcount
            FROM jsonb_to_recordset(\(json)::jsonb) AS r(code text, name text, branch text, headcount integer)
            JOIN branches b ON b.code = r.branch
            ON CONFLICT (code) DO UPDATE SET
              name = EXCLUDED.name, branch_id = EXCLUDED.branch_id, headcount = EXCLUDED.headcount, active = true, updated_at = now()
            RETURNING (xmax = 0)
            """,
            logger: logger
        )
        var summary = ImportSummary(created: 0, updated: 0)
        for try await isNew in written.decode(Bool.self) {
            if isNew { summary.created += 1 } else { summary.updated += 1 }
        }
        // A branch that vanished between the check and the import would drop rows silently.
        guard summary.created + summary.updated == expected else { throw OrganisationError.branchesChanged }
        return summary
    }

    /// A unit as the organisation page lists it.
    public struct UnitSummary: Sendable, Equatable {
        public let code: String
        public let name: String
        public let branchCode: String
        public let headcount: Int?
        public let active: Bool
    }

    public func units() async throws -> [UnitSummary] {
        try await unitSummaries(code: nil)
    }

    public func unit(code: String) async throws -> UnitSummary? {
        try await unitSummaries(code: code).first
    }

    private func unitSummaries(code: String?) async throws -> [UnitSummary] {
        try await database.query(
            """
            SELECT u.code, u.name, b.code, u.headcount, u.active FROM units u JOIN branches b ON b.id = u.branch_id
            WHERE \(code)::text IS NULL OR u.code = \(code) ORDER BY u.code
            """
        ).map { row in
            let (code, name, branch, headcount, active) = try row.decode((String, String, String, Int?, Bool).self)
            return UnitSummary(code: code, name: name, branchCode: branch, headcount: headcount, active: active)
        }
    }

    /// Adds one unit; `false` if its code is taken.
    func addUnit(_ row: UnitRow, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            INSERT INTO units (code, name, branch_id, headcount)
            SELECT \(row.code), \(row.name), id, \(row.headcount) FROM branches WHERE code = \(row.branchCode)
            ON CONFLICT (code) DO NOTHING RETURNING 1
            """,
            logger: logger
        )
    }

    /// Changes one unit (a new branch moves it); `false` if there is no such unit or branch.
    func updateUnit(_ row: UnitRow, active: Bool, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            UPDATE units SET name = \(row.name), headcount = \(row.headcount), active = \(active), updated_at = now(),
                   branch_id = (SELECT id FROM branches WHERE code = \(row.branchCode))
            WHERE code = \(row.code) AND EXISTS (SELECT 1 FROM branches WHERE code = \(row.branchCode))
            RETURNING 1
            """,
            logger: logger
        )
    }

    /// One load of a year's results.
    public struct Load: Sendable, Equatable {
        public let year: Int
        public let version: Int
        public let units: Int
    }

    /// Stores a year's results as its next version (the first is 1); earlier versions stay as
    /// they were. Each result keeps the branch and headcount its unit has now, because units
    /// move between branches from year to year. The audit log records who loaded what.
    public func importResults(
        year: Int,
        _ rows: [PerformanceRow],
        source: String,
        fileName: String,
        actor: AuditActor,
        logger: Logger
    ) async throws -> Load {
        try await database.transaction(logger: logger) { connection in
            try await importResults(year: year, rows, source: source, fileName: fileName, actor: actor, on: connection, logger: logger)
        }
    }

    /// The same, in the caller's transaction.
    func importResults(
        year: Int,
        _ rows: [PerformanceRow],
        source: String,
        fileName: String,
        actor: AuditActor,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Load {
        let json = JSONText.array(
            rows.map { row in
                JSONText.object([
                    ("unit", JSONText.string(row.unitCode)), ("score", row.score.map(JSONText.number) ?? "null"),
                    ("grade", row.grade.map(JSONText.string) ?? "null"),
                    ("indicators", JSONText.object(row.indicators.sorted { $0.key < $1.key }.map { ($0.key, JSONText.string($0.value)) })),
                ])
            }
        )
        let expected = rows.count
        // Two loads of one year at once must not both become the same version.
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('performance', \(year)))", logger: logger)
        var version = 1
        for try await latest in try await connection.query(
            "SELECT coalesce(max(version), 0) + 1 FROM performance_loads WHERE year = \(year)",
            logger: logger
        ).decode(Int.self) { version = latest }
        var loadID: UUID?
        for try await id in try await connection.query(
            """
            INSERT INTO performance_loads (year, version, source, file_name, loaded_by, loaded_by_name)
            VALUES (\(year), \(version), \(source), \(fileName), \(actor.userID), \(actor.name))
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { loadID = id }
        var stored = 0
        for try await count in try await connection.query(
            """
            WITH written AS (
              INSERT INTO performance_results (load_id, unit_id, branch_id, headcount, score, grade, indicators)
              SELECT \(loadID!), u.id, u.branch_id, u.headcount, r.score, r.grade, coalesce(r.indicators, '{}')
              FROM jsonb_to_recordset(\(json)::jsonb) AS r(unit text, score float8, grade text, indicators jsonb)
              JOIN units u ON u.code = r.unit
              RETURNING 1
            )
            SELECT count(*)::int FROM written
            """,
            logger: logger
        ).decode(Int.self) { stored = count }
        guard stored == expected else { throw PerformanceError.unitsChanged }
        // Closed rounds read with this year that had no business results yet get their
        // integrated sheet now; those that have one keep it until someone adopts this version.
        var waiting: [UUID] = []
        for try await round in try await connection.query(
            """
            SELECT r.id FROM rounds r JOIN result_snapshots s ON s.round_id = r.id AND s.kind = 'final'
            WHERE r.status = ANY(\(RoundStatus.withResults)::text[])
              AND coalesce((r.config -> 'integration' ->> 'performanceYear')::int, r.year) = \(year)
              AND NOT EXISTS (SELECT 1 FROM integrated_sheets i WHERE i.round_id = r.id)
            """,
            logger: logger
        ).decode(UUID.self) { waiting.append(round) }
        for round in waiting {
            try await IntegratedSheets.freeze(roundID: round, version: version, connection: connection, logger: logger)
        }
        try await AuditLog.record(
            .init(
                action: "performance.imported",
                actor: actor,
                subject: fileName,
                details: ["year": "\(year)", "version": "\(version)", "units": "\(stored)", "source": source]
            ),
            on: connection,
            logger: logger
        )
        return Load(year: year, version: version, units: stored)
    }

    /// Each branch's business score for a year, from its units' scores in the newest version
    /// (or the one given), weighted by headcount as `Integration.businessScore` says; branches
    /// whose units have no score are absent. `branchCode` keeps to one branch.
    public func businessScores(year: Int, version: Int? = nil, branchCode: String? = nil) async throws -> [String: Double] {
        let rows = try await database.query(
            """
            SELECT b.code, r.score, r.headcount
            FROM performance_results r
            JOIN performance_loads l ON l.id = r.load_id
            JOIN branches b ON b.id = r.branch_id
            WHERE l.year = \(year) AND r.score IS NOT NULL AND (\(branchCode)::text IS NULL OR b.code = \(branchCode))
              AND l.version = coalesce(\(version), (SELECT max(version) FROM performance_loads WHERE year = \(year)))
            """
        )
        var units: [String: [Integration.UnitScore]] = [:]
        for row in rows {
            let (code, score, headcount) = try row.decode((String, Double, Int?).self)
            units[code, default: []].append(.init(score: score, headcount: headcount))
        }
        return units.compactMapValues(Integration.businessScore)
    }

    /// One branch's business score for a year, from the newest results.
    public func businessScore(year: Int, branchCode: String) async throws -> Double? {
        try await businessScores(year: year, branchCode: branchCode)[branchCode]
    }

    /// The newest version loaded for a year; `nil` when none was.
    public func newestVersion(year: Int) async throws -> Int? {
        try await database.query("SELECT max(version) FROM performance_loads WHERE year = \(year)").first?.decode(Int?.self)
    }
}

extension PerformanceRepository {
    /// A year's unit results in one version (the newest unless one is given), with the branch
    /// each unit belonged to when they were loaded; `nil` when the year has none.
    static func unitResults(
        year: Int,
        version: Int? = nil,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> (version: Int, units: [UnitPerformance])? {
        var chosen: Int?
        for try await latest in try await connection.query(
            "SELECT max(version) FROM performance_loads WHERE year = \(year) AND (\(version)::int IS NULL OR version = \(version))",
            logger: logger
        ).decode(Int?.self) { chosen = latest }
        guard let chosen else { return nil }
        var units: [UnitPerformance] = []
        for try await (code, name, branch, headcount, score, grade) in try await connection.query(
            """
            SELECT u.code, u.name, b.code, r.headcount, r.score, r.grade
            FROM performance_results r
            JOIN performance_loads l ON l.id = r.load_id
            JOIN units u ON u.id = r.unit_id
            JOIN branches b ON b.id = r.branch_id
            WHERE l.year = \(year) AND l.version = \(chosen)
            ORDER BY b.code, u.code
            """,
            logger: logger
        ).decode((String, String, String, Int?, Double?, String?).self) {
            units.append(UnitPerformance(code: code, name: name, branchCode: branch, headcount: headcount, score: score, grade: grade))
        }
        return (chosen, units)
    }

    public func unitResults(year: Int, version: Int? = nil, logger: Logger) async throws -> (version: Int, units: [UnitPerformance])? {
        try await database.withConnection { connection in
            try await Self.unitResults(year: year, version: version, connection: connection, logger: logger)
        }
    }
}

public enum PerformanceError: Error, CustomStringConvertible {
    /// A unit named in the file was removed between the check and the import.
    case unitsChanged

    public var description: String { "the units changed while the results were being imported; import the file again" }
}
