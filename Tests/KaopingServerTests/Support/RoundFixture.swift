import Foundation
import Logging
import PostgresNIO
import Prometheus

@testable import KaopingServer

/// A migrated database with the forms frozen and two branches, and the round repository on it.
struct RoundFixture {
    let url: DatabaseURL
    let database: Database
    let rounds: RoundRepository
    let logger: Logger

    static func with(_ body: (RoundFixture) async throws -> Void) async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        var logger = Logger(label: "kaoping.tests.rounds")
        logger.logLevel = .critical
        let database = Database(url: url, poolSize: 4, registry: PrometheusCollectorRegistry(), logger: logger)
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let forms = FormRepository(database: database)
            for form in catalog.forms { _ = try await forms.freeze(form) }
            try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
            try await database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'm' || g, '党员' || g, (SELECT id FROM branches WHERE code = 'b01') FROM generate_series(1, 6) g"
            )
            let fixture = RoundFixture(
                url: url,
                database: database,
                rounds: RoundRepository(
                    database: database,
                    forms: catalog,
                    frozenForms: FormRepository(database: database),
                    seal: TestApp.ballotSeal
                ),
                logger: logger
            )
            try await body(fixture)
        }
        await TestDatabaseServer.shared.drop(url)
    }

    func status(_ id: UUID) async throws -> String {
        try await database.query("SELECT status FROM rounds WHERE id = \(id)").first!.decode(String.self)
    }
}
