import Logging
import ServiceLifecycle

/// Mixes full ballot boxes into the responses, and opens scheduled rounds and closes due ones, checking every second so that both happen
/// within a few seconds of their time. Every instance runs it; row locks in
/// `RoundRepository.runDue` make each opening and closing happen exactly once.
public struct RoundSchedulerService: Service {
    let rounds: RoundService
    let ballots: BallotBox
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    public init(rounds: RoundService, ballots: BallotBox, migrations: MigrationGate, interval: Duration = .seconds(1), logger: Logger) {
        self.rounds = rounds
        self.ballots = ballots
        self.migrations = migrations
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let rounds = self.rounds
        let ballots = self.ballots
        let logger = self.logger
        await PeriodicWork(name: "round scheduling", migrations: migrations, interval: interval, logger: logger).run {
            let (opened, closed) = try await rounds.runDue(logger: logger)
            // Ballots move into the responses once a round has k of them waiting.
            _ = try await ballots.mixFullRounds(logger: logger)
            for id in opened { logger.info("round opened on schedule", metadata: ["round": "\(id)"]) }
            for id in closed { logger.info("round closed on schedule", metadata: ["round": "\(id)"]) }
        }
    }
}
