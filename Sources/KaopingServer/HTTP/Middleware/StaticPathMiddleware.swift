import Hummingbird

/// Lets only plain file names through to the static files.
///
/// The file middleware decodes the path before it opens the file, and the name it opens stops
/// at an encoded NUL: `/static/kaoping.css%00.html` would serve the style sheet as HTML. Our
/// static files have plain ASCII names, so anything else under `/static/` is simply not found.
public struct StaticPathMiddleware<Context: RequestContext>: RouterMiddleware {
    static var prefix: String { SiteURL.staticFiles.path + "/" }

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix(Self.prefix) && !Self.isPlainFileName(path.dropFirst(Self.prefix.count)) {
            throw AppError(status: .notFound)
        }
        return try await next(request, context)
    }

    static func isPlainFileName(_ name: Substring) -> Bool {
        !name.isEmpty && !name.hasPrefix(".")
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default:
                    return false
                }
            }
    }
}
