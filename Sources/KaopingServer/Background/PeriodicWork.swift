import Logging
import ServiceLifecycle

/// The loop every background service shares: wait until the migrations are applied, then do
/// one pass of work every `interval` until shutdown. A failed pass is logged and retried on the
/// next tick; during shutdown the pass is cancelled, so that a database that is down cannot
/// hold the server up, and the failures that cancellation causes are not worth a warning.
struct PeriodicWork: Sendable {
    let name: String
    let migrations: MigrationGate
    let interval: Duration
    let logger: Logger

    func run(_ pass: @escaping @Sendable () async throws -> Void) async {
        do {
            try await cancelWhenGracefulShutdown { try await migrations.wait() }
        } catch {
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await pass() }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("\(name) failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
