import Foundation
import Logging
import ServiceLifecycle

/// Keeps the newest closed rounds' results read and their diagnostics computed. For a province
/// (25,000 branches) reading a round's final snapshot takes about a second, and so would the
/// first person to open its pages after a start or a close; this pays it in the background,
/// through the same `ResultsService` the pages read.
public struct ResultsWarmingService: Service {
    let results: ResultsService
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    /// How many of the newest closed rounds are kept ready (each costs memory in proportion to
    /// its branches: about 70 MB for a province).
    static let rounds = 2

    public init(results: ResultsService, migrations: MigrationGate, interval: Duration = .seconds(30), logger: Logger) {
        self.results = results
        self.migrations = migrations
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let results = self.results
        let logger = self.logger
        await PeriodicWork(name: "results warming", migrations: migrations, interval: interval, logger: logger).run {
            for round in try await results.newestClosedRounds(Self.rounds) { try await results.warm(roundID: round, logger: logger) }
        }
    }
}
