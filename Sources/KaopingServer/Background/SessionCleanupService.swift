import Logging
import ServiceLifecycle

/// Deletes expired sessions and old login attempts every few minutes.
public struct SessionCleanupService: Service {
    let sessions: PostgresPersistDriver
    let throttle: LoginThrottle
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    public init(
        sessions: PostgresPersistDriver,
        throttle: LoginThrottle,
        migrations: MigrationGate,
        interval: Duration = .seconds(300),
        logger: Logger
    ) {
        self.sessions = sessions
        self.throttle = throttle
        self.migrations = migrations
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let sessions = self.sessions
        let throttle = self.throttle
        let logger = self.logger
        await PeriodicWork(name: "session clean-up", migrations: migrations, interval: interval, logger: logger).run {
            let removed = try await sessions.removeExpired()
            try await throttle.prune()
            if removed > 0 { logger.debug("removed expired sessions", metadata: ["count": "\(removed)"]) }
        }
    }
}
