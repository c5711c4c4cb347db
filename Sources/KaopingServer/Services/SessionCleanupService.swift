import Logging
import ServiceLifecycle

/// Deletes expired sessions and old login attempts every few minutes.
public struct SessionCleanupService: Service {
    let sessions: PostgresPersistDriver
    let throttle: LoginThrottle
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    public init(sessions: PostgresPersistDriver, throttle: LoginThrottle, migrations: MigrationGate, interval: Duration = .seconds(300), logger: Logger) {
        self.sessions = sessions
        self.throttle = throttle
        self.migrations = migrations
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await migrations.wait() }
        } catch {
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let sessions = self.sessions, throttle = self.throttle
                let removed = try await cancelWhenGracefulShutdown {
                    let removed = try await sessions.removeExpired()
                    try await throttle.prune()
                    return removed
                }
                if removed > 0 { logger.debug("removed expired sessions", metadata: ["count": "\(removed)"]) }
            } catch {
                // During shutdown the pool closes under us; that is not worth a warning.
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("session clean-up failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
