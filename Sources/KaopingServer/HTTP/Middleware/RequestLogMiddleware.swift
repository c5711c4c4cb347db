import Hummingbird
import Logging

/// Logs one line per request with its request id, and returns that id as `X-Request-Id` so that
/// a person reporting a problem can quote it.
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.xRequestID] = context.id
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)",
                "path": "\(LoggedPath.redacting(request.uri.path))",
                "status": "\(response.status.code)",
                "ms": "\((milliseconds * 10).rounded() / 10)",
            ]
        )
        return response
    }
}
