import Logging
import ServiceLifecycle

/// Stops the embedded PostgreSQL cluster when the server shuts down.
///
/// It is the first service of the group, so it is the last to be shut down: the HTTP server has
/// finished its in-flight requests and the connection pool is closed before the database stops.
public struct EmbeddedPostgresService: Service {
    let cluster: EmbeddedPostgres
    let logger: Logger

    public init(cluster: EmbeddedPostgres, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        do {
            try cluster.stop(logger: logger)
        } catch {
            logger.error("\(error)")
        }
    }
}
