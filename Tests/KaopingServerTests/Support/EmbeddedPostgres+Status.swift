import Foundation

@testable import KaopingServer

extension EmbeddedPostgres {
    /// Whether the cluster's server is running, as `pg_ctl status` says.
    func isRunning() async -> Bool {
        guard let binaries = try? await PostgresBinaries.locate() else { return false }
        let runner = CommandRunner(runAsPostgres: geteuid() == 0)
        if case .running = try? await status(binaries: binaries, runner: runner) { return true }
        return false
    }
}
