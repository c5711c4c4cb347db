import Hummingbird

/// Applies the configured body size limit to every request: a larger body gets 413.
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let limit: Int
    let uploadLimit: Int

    /// File uploads (organisation lists) may be larger than anything a form sends.
    static let uploadPaths = [SiteURL.organisationImport.path]

    public init(limit: Int, uploadLimit: Int) {
        self.limit = limit
        self.uploadLimit = uploadLimit
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = Self.uploadPaths.contains(request.uri.path) ? uploadLimit : self.limit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw AppError(status: .contentTooLarge)
        }
        var context = context
        context.maxUploadSize = limit
        return try await next(request, context)
    }
}
