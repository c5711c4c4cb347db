import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore

/// The port the server's metrics listener bound (the test configuration asks for any free one).
final class MetricsPort: Sendable {
    private let port = NIOLockedValueBox<Int?>(nil)

    func set(_ port: Int) { self.port.withLockedValue { $0 = port } }

    /// The port, once the listener runs; `nil` if it does not within `patience`.
    func value(patience: Duration = .seconds(10)) async throws -> Int? {
        let deadline = ContinuousClock.now + patience
        while true {
            if let port = port.withLockedValue({ $0 }) { return port }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension TestHarness {
    /// `GET path` (`/metrics` unless said) from the server's metrics listener, not its public port.
    func metrics(_ path: String = "/metrics") async throws -> Reply {
        guard let port = try await metricsPort.value() else { throw MetricsListenerAbsent() }
        let connection = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10)))
        connection.connect()
        do {
            let reply = try await connection.execute(.init(path, method: .get, authority: "127.0.0.1", headers: [:], body: nil))
            try await connection.shutdown()
            return Reply(status: reply.status, headers: reply.headers, body: reply.body ?? ByteBuffer())
        } catch {
            try? await connection.shutdown()
            throw error
        }
    }
}

struct MetricsListenerAbsent: Error {}
