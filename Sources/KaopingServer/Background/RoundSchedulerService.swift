import Logging
import ServiceLifecycle

/// Mixes full ballot boxes into the responses, opens scheduled rounds and closes due ones, and
/// starts and ends publicity periods, and does the same for members' appraisals, checking every second so that each happens within a few
/// seconds of its time. Every instance runs it; row locks in `RoundRepository.runDue` and
/// `PublicityService.runDue` make each step happen exactly once.
public struct RoundSchedulerService: Service {
    let rounds: RoundService
    let publicity: PublicityService
    let ballots: BallotBox
    let appraisals: AppraisalService
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    public init(
        rounds: RoundService,
        publicity: PublicityService,
        ballots: BallotBox,
        appraisals: AppraisalService,
        migrations: MigrationGate,
        interval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.rounds = rounds
        self.publicity = publicity
        self.ballots = ballots
        self.appraisals = appraisals
        self.migrations = migrations
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let rounds = self.rounds
        let ballots = self.ballots
        let publicity = self.publicity
        let appraisals = self.appraisals
        let logger = self.logger
        await PeriodicWork(name: "round scheduling", migrations: migrations, interval: interval, logger: logger).run {
            let (opened, closed) = try await rounds.runDue(logger: logger)
            // Ballots move into the responses once a round has k of them waiting.
            _ = try await ballots.mixFullRounds(logger: logger)
            for id in opened { logger.info("round opened on schedule", metadata: ["round": "\(id)"]) }
            for id in closed { logger.info("round closed on schedule", metadata: ["round": "\(id)"]) }
            let (started, ended) = try await publicity.runDue(logger: logger)
            for id in started { logger.info("publicity started on schedule", metadata: ["round": "\(id)"]) }
            for id in ended { logger.info("publicity ended on schedule", metadata: ["round": "\(id)"]) }
            // The members' appraisal keeps the same times; its ballots are counted at its close.
            let appraisalsDue = try await appraisals.runDue(logger: logger)
            for id in appraisalsDue.opened { logger.info("appraisal opened on schedule", metadata: ["round": "\(id)"]) }
            for id in appraisalsDue.closed { logger.info("appraisal closed on schedule", metadata: ["round": "\(id)"]) }
        }
    }
}
