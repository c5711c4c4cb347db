import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

/// Counts requests and their durations by route, method and status for `/metrics`.
///
/// The route is the matched pattern (`/admin/forms/{formId}`), never the raw path, so that
/// the number of series stays bounded.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    static var buckets: [Duration] {
        [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: HTTPResponse.Status
        let response: Response
        do {
            response = try await next(request, context)
            status = response.status
        } catch {
            record(request: request, context: context, status: (error as? any HTTPResponseError)?.status ?? .internalServerError, since: start)
            throw error
        }
        record(request: request, context: context, status: status, since: start)
        return response
    }

    private func record(request: Request, context: Context, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let labels = [
            ("route", context.endpointPath ?? "unmatched"),
            ("method", request.method.rawValue),
            ("status", String(status.code)),
        ]
        registry.makeCounter(
            descriptor: .init(
                namespace: "kaoping",
                subsystem: "http",
                metricName: "requests",
                unitName: "total",
                helpText: "HTTP requests by route, method and status"
            ),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "kaoping",
                subsystem: "http",
                metricName: "request_duration",
                unitName: "seconds",
                helpText: "HTTP request durations"
            ),
            labels: labels,
            buckets: Self.buckets
        ).record(ContinuousClock.now - start)
    }
}
