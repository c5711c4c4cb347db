import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// An error meant for the person on the other end: a status and a message from the catalogue.
public struct AppError: Error, HTTPResponseError, Equatable {
    public let status: HTTPResponse.Status
    public let messageKey: String
    /// Seconds to send as `Retry-After`, for a refusal that lifts by itself.
    public let retryAfter: Int?

    public init(status: HTTPResponse.Status, messageKey: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.messageKey = messageKey ?? "error_\(status.code)"
        self.retryAfter = retryAfter
    }

    public static let csrfRejected = AppError(status: .forbidden, messageKey: "error_403_csrf")
    public static let forbidden = AppError(status: .forbidden)
    public static let notFound = AppError(status: .notFound)
    public static let badRequest = AppError(status: .badRequest)
    public static let databaseUnavailable = AppError(status: .serviceUnavailable)
    public static let malformedBody = AppError(status: .badRequest, messageKey: "error_400_malformed")

    /// Used only if an error escapes `ErrorPageMiddleware`, which should not happen.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "\(status.code)\n"))
        )
    }
}

/// Turns every error into a page people can read: HTML in their language for browsers, JSON
/// for `/api/` clients. Internal messages and stack traces stay in the log, tied to the request
/// id that the page shows.
public struct ErrorPageMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let views: Views
    let routes: RouteCatalog

    public init(views: Views, routes: RouteCatalog) {
        self.views = views
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var failure = classify(error)
            var allowed: [HTTPRequest.Method] = []
            if failure.status == .notFound {
                allowed = routes.methods(matching: request.uri.path)
                if !allowed.isEmpty && !allowed.contains(request.method) {
                    failure = AppError(status: .methodNotAllowed)
                }
            }
            if failure.status.code >= 500 {
                context.logger.error(
                    "request failed",
                    metadata: [
                        "path": "\(LoggedPath.redacting(request.uri.path))", "status": "\(failure.status.code)",
                        "error": "\(String(reflecting: error))",
                    ]
                )
            } else {
                context.logger.debug("request refused", metadata: ["status": "\(failure.status.code)", "error": "\(String(reflecting: error))"])
            }
            var response = render(failure, request: request, context: context)
            if failure.status == .methodNotAllowed {
                response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            }
            if let seconds = failure.retryAfter {
                response.headers[.retryAfter] = String(seconds)
            } else if failure.status == .serviceUnavailable {
                response.headers[.retryAfter] = "60"
            }
            return response
        }
    }

    private func classify(_ error: any Error) -> AppError {
        switch error {
        case let error as AppError:
            return error
        case let error as any HTTPResponseError:
            return AppError(status: error.status)
        case let error where DatabaseFailure.isUnavailable(error):
            return .databaseUnavailable
        default:
            return AppError(status: .internalServerError)
        }
    }

    private func render(_ failure: AppError, request: Request, context: Context) -> Response {
        let message = context.language.text(failure.messageKey)
        let knownMessage =
            context.language.strings[failure.messageKey] != nil
            ? message : context.language.text(failure.status.code >= 500 ? "error_500" : "error_400")
        if request.uri.path.hasPrefix(SiteURL.apiPrefix) {
            let body: [String: [String: String]] = [
                "error": ["status": String(failure.status.code), "message": knownMessage, "requestId": context.id]
            ]
            let json = (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return Response(
                status: failure.status,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: json))
            )
        }
        // Members and the public on a link that leads nowhere get a plain page in the
        // respondents' frame: no status code, no reference, no way into the admin area.
        if SiteURL.isRespondentPath(request.uri.path) && failure.status.code < 500 {
            let message = failure.messageKey == "error_404" ? context.language.text("respond_link_unknown") : knownMessage
            let page = ClosedPage(heading: context.language.text("respond_problem_title"), message: message)
            if let response = try? views.page("closed", page, status: failure.status, context: context) { return response }
        }
        let page = ErrorPage(
            status: failure.status.code,
            message: knownMessage,
            requestId: context.id,
            home: request.uri.path.hasPrefix(SiteURL.adminPrefix) ? SiteURL.admin.path : SiteURL.root.path
        )
        if let page = try? views.page("error", page, status: failure.status, context: context) {
            return page
        }
        return Response(
            status: failure.status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "\(failure.status.code) \(knownMessage)\n"))
        )
    }
}
