import PostgresNIO

@testable import KaopingServer

extension PerformanceRepository {
    /// The versions loaded for a year, newest first.
    func loads(year: Int) async throws -> [Load] {
        try await database.query(
            """
            SELECT l.year, l.version, (SELECT count(*)::int FROM performance_results r WHERE r.load_id = l.id)
            FROM performance_loads l WHERE l.year = \(year) ORDER BY l.version DESC
            """
        ).map { row in
            let (year, version, units) = try row.decode((Int, Int, Int).self)
            return Load(year: year, version: version, units: units)
        }
    }
}
