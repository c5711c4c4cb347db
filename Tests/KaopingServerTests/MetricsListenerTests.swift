import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import KaopingServer

@Suite("Metrics on a listener of their own", .timeLimit(.minutes(2)))
struct MetricsListenerTests {
    /// The public port (the one the proxy opens to everyone) has no `/metrics`; the metrics
    /// listener has it, and nothing else.
    @Test func metricsAreServedOnTheirOwnListenerOnly() async throws {
        try await TestApp.run { client, harness in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let onPublicPort = try await client.execute(uri: "/metrics", method: .get)
            #expect(onPublicPort.status == .notFound)
            #expect(!String(buffer: onPublicPort.body).contains("kaoping_http_requests_total"))

            let metrics = try await harness.metrics()
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.text.contains("kaoping_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"), "\(metrics.text)")
            // The public port's refusal is counted like any other request.
            #expect(metrics.text.contains("kaoping_http_requests_total{route=\"NotFound\",method=\"GET\",status=\"404\"} 1"))
            // The listener serves the figures and nothing else: no pages, no health checks.
            #expect(try await harness.metrics("/healthz").status == .notFound)
            #expect(try await harness.metrics("/admin/login").status == .notFound)
            #expect(harness.configuration.metricsAddress?.host == "127.0.0.1")
        }
    }

    @Test func offMeansNoListener() async throws {
        try await TestApp.run(configure: { configuration in configuration.metricsAddress = nil }) { client, harness in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .notFound)
            // The server is up; a listener would have reported its port by now.
            let port = try await harness.metricsPort.value(patience: .seconds(1))
            #expect(port == nil)
        }
    }

    @Test func theSettingDefaultsToLoopbackAndIsReadAsHostAndPort() throws {
        func resolve(_ value: String) throws -> ListenAddress? {
            try KaopingConfiguration.resolve(flags: ["metrics-address": value], environment: [:]).metricsAddress
        }
        #expect(try KaopingConfiguration.resolve(flags: [:], environment: [:]).metricsAddress == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try resolve("off") == nil)
        #expect(try resolve("OFF") == nil)
        #expect(try resolve("10.0.0.5:9100") == ListenAddress(host: "10.0.0.5", port: 9100))
        #expect(try resolve("[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(ListenAddress(host: "::1", port: 9464).description == "[::1]:9464")
        #expect(
            try KaopingConfiguration.resolve(flags: [:], environment: ["KAOPING_METRICS_ADDRESS": "off"]).metricsAddress == nil
        )
        for wrong in ["9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":9464", "::1:9464", "localhost:http", "no"] {
            #expect(throws: ConfigurationError.self, "\(wrong)") { try resolve(wrong) }
        }
        do {
            _ = try resolve("9464")
        } catch let error as ConfigurationError {
            #expect(
                error.description
                    == "configuration error: --metrics-address (metrics-address) must be host:port (127.0.0.1:9464, [::1]:9464) or off, not '9464'"
            )
        }
    }

    /// A metrics address another program holds stops start-up with a line that names this
    /// setting, not `--port`.
    @Test func anAddressInUseIsNamed() async throws {
        let registry = PrometheusCollectorRegistry()
        let port = MetricsPort()
        var logger = Logger(label: "kaoping.tests.metrics")
        logger.logLevel = .critical
        let first = MetricsListener(address: ListenAddress(host: "127.0.0.1", port: 0), registry: registry, logger: logger) { port.set($0) }
        let running = Task { try await first.run() }
        defer { running.cancel() }
        let taken = try #require(try await port.value())
        let second = MetricsListener(address: ListenAddress(host: "127.0.0.1", port: taken), registry: registry, logger: logger)
        do {
            try await second.run()
            Issue.record("a second listener bound \(taken)")
        } catch let error as MetricsListenerError {
            #expect(
                error.description
                    == "cannot serve metrics on 127.0.0.1:\(taken): the port is already in use (another kaoping serve on this machine?); choose another --metrics-address, or --metrics-address off"
            )
            #expect(StartupFailure.describe(error, configuration: KaopingConfiguration()) == error.description)
        }
    }
}
