// Background: services that run beside the HTTP server in its service group: the embedded
// database's supervisor, the scheduler and mixer, results warming, session clean-up, and the
// gate that holds them until the migrations are applied.

import Foundation
import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Keeps the embedded PostgreSQL cluster running while the server runs, and stops it at the end.
///
/// If the postmaster dies (killed, out of memory, a crash), the service starts it again on the
/// same port, so that the connection pool finds it where it was; PostgreSQL's own crash recovery
/// replays the write-ahead log, so every committed answer is there. A cluster that keeps
/// failing is retried with a growing pause, up to 30 s. Each restart is logged and counted in
/// `/metrics` (`kaoping_embedded_postgres_restarts_total`).
///
/// It is the first service of the group, so it is the last to be shut down: the HTTP server has
/// finished its in-flight requests and the connection pool is closed before the database stops.
public struct EmbeddedPostgresService: Service {
    let cluster: EmbeddedPostgres
    let port: Int
    /// Whether this process started the cluster (and so stops it at the end).
    let startedHere: Bool
    let checkInterval: Duration
    let logger: Logger
    let restarts: Prometheus.Counter

    public init(
        cluster: EmbeddedPostgres,
        port: Int,
        startedHere: Bool,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        checkInterval: Duration = .seconds(1)
    ) {
        self.cluster = cluster
        self.port = port
        self.startedHere = startedHere
        self.checkInterval = checkInterval
        self.logger = logger
        self.restarts = registry.makeCounter(
            descriptor: .init(
                namespace: "kaoping",
                subsystem: "embedded_postgres",
                metricName: "restarts",
                unitName: "total",
                helpText: "Times the embedded PostgreSQL was found dead and started again"
            )
        )
    }

    /// Failed restarts tried again at the check interval before the pause starts to grow.
    static let quickRetries = 10

    public func run() async throws {
        // A cluster this process restarted is its own to stop, whoever started it first.
        let restarted = await cancelWhenGracefulShutdown { await supervise() }
        guard startedHere || restarted else { return }
        do {
            try await cluster.stop(logger: logger)
        } catch {
            logger.error("\(error)")
        }
    }

    /// Checks the postmaster until cancelled; returns whether it restarted it.
    ///
    /// The first restarts after a death are tried at the check interval: the server processes
    /// the killed postmaster left behind hold its shared memory until they notice and exit, and
    /// until then a start is refused ("pre-existing shared memory block is still in use"). A
    /// pause doubling from the first refusal could keep the service down for 15 s more than
    /// that takes; only a cluster that still will not start after the quick tries backs off.
    private func supervise() async -> Bool {
        var restarted = false
        var pause = checkInterval
        var failures = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: pause)
            if Task.isCancelled || cluster.postmasterIsAlive() {
                pause = checkInterval
                continue
            }
            logger.error(
                "embedded PostgreSQL is not running; starting it again",
                metadata: ["cluster": "\(cluster.clusterDirectory)"]
            )
            do {
                let cluster = self.cluster
                let port = self.port
                let logger = self.logger
                _ = try await cluster.start(logger: logger, port: port)
                restarts.increment()
                restarted = true
                pause = checkInterval
                failures = 0
                logger.notice("embedded PostgreSQL restarted", metadata: ["port": "\(port)"])
            } catch {
                failures += 1
                pause = failures < Self.quickRetries ? checkInterval : min(pause * 2, .seconds(30))
                logger.error(
                    "embedded PostgreSQL could not be restarted; trying again",
                    metadata: ["in": "\(pause)", "error": "\(error)"]
                )
            }
        }
        return restarted
    }
}
