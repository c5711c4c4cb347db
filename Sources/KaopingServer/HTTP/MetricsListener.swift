import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `GET /metrics` (Prometheus text) on a listener of its own (`--metrics-address`, loopback by
/// default), so that the application's port, which the proxy opens to everyone, has no
/// `/metrics`: the figures stay with whoever can reach this address (a scraper on the machine,
/// or on a network the operator chose), whatever the proxy in front is told.
///
/// A small Hummingbird application of its own, run as a service beside the main one: it starts
/// and stops with it, and a listener that cannot bind stops start-up with one line.
public struct MetricsListener: Service {
    let address: ListenAddress
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void

    public init(
        address: ListenAddress,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.address = address
        self.registry = registry
        self.logger = logger
        self.onRunning = onRunning
    }

    public func run() async throws {
        let registry = self.registry
        let router = Router()
        router.get(SiteURL.metrics.route) { _, _ in Self.exposition(registry) }
        let address = self.address
        let onRunning = self.onRunning
        let app = Application(
            router: router,
            // A scraper keeps its connection between scrapes; one gone quiet for five minutes is
            // not coming back.
            server: .http1(configuration: .init(idleTimeout: .seconds(300))),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? address.port) },
            logger: logger
        )
        do {
            try await app.run()
        } catch let error as IOError {
            throw MetricsListenerError(address: address, error: error)
        }
    }

    /// Everything the registry holds, in Prometheus' text format.
    static func exposition(_ registry: PrometheusCollectorRegistry) -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer))
        )
    }
}

/// The metrics listener could not listen; its description is the one line start-up prints.
public struct MetricsListenerError: Error, CustomStringConvertible {
    public let address: ListenAddress
    public let error: IOError

    public var description: String {
        let reason =
            switch error.errnoCode {
            case EADDRINUSE: "the port is already in use (another kaoping serve on this machine?)"
            case EACCES: "permission denied (ports below 1024 need privileges)"
            case EADDRNOTAVAIL: "this machine has no such address"
            default: "\(error)"
            }
        return "cannot serve metrics on \(address): \(reason); choose another --metrics-address, or --metrics-address off"
    }
}
