import Foundation
import Hummingbird

/// Liveness and readiness, for the proxy's health checks. (Metrics are not here, on the public
/// port, but on a listener of their own: `MetricsListener`.)
public struct HealthController: Sendable {
    let database: Database
    let migrations: MigrationGate
    let expectedMigrations: Set<Int>

    public init(database: Database, migrations: MigrationGate, expectedMigrations: Set<Int>) {
        self.database = database
        self.migrations = migrations
        self.expectedMigrations = expectedMigrations
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.healthz.route, use: healthz)
        router.get(SiteURL.readyz.route, use: readyz)
    }

    /// The process is alive and serving HTTP; says nothing about the database.
    @Sendable func healthz(_ request: Request, context: AppRequestContext) async throws -> Response {
        json(.ok, ["status": "ok"])
    }

    /// Ready to take traffic: the database answers and has every migration this build knows.
    @Sendable func readyz(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard migrations.isOpen else {
            return json(.serviceUnavailable, ["status": "starting", "reason": "migrations not yet applied"])
        }
        let database = self.database
        let answer = await database.answers(within: .seconds(2)) {
            (applied: try await Migrator.appliedVersions(database: database) ?? [], writable: try await database.acceptsWrites())
        }
        guard let answer else {
            return json(.serviceUnavailable, ["status": "unavailable", "reason": "database not reachable"])
        }
        guard answer.writable else {
            return json(.serviceUnavailable, ["status": "unavailable", "reason": "database is read-only (a standby, or a failover under way)"])
        }
        let applied = answer.applied
        let missing = expectedMigrations.subtracting(applied)
        guard missing.isEmpty else {
            return json(.serviceUnavailable, ["status": "unavailable", "reason": "migrations missing: \(missing.sorted())"])
        }
        return json(.ok, ["status": "ready", "migrations": "\(applied.count)"])
    }

    private func json(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
