import Foundation
import Hummingbird
import Mustache

/// Renders the Mustache templates bundled with the server.
///
/// Every page gets the same base values (language, text catalogue, signed-in user, CSRF token)
/// so that templates never need to be told them by each handler.
public struct Views: Sendable {
    let library: MustacheLibrary

    public init(directory: String = Resources.path("templates")) async throws {
        self.library = try await MustacheLibrary(directory: directory)
    }

    /// Renders `template` with `values` merged over the base values of `context`.
    public func render(_ template: String, _ values: [String: Any] = [:], context: AppRequestContext) throws -> String {
        var object = Views.baseValues(context: context)
        for (key, value) in values { object[key] = value }
        guard let html = library.render(object, withTemplate: template) else {
            throw ViewError.missingTemplate(template)
        }
        return html
    }

    public func page(
        _ template: String,
        _ values: [String: Any] = [:],
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    ) throws -> Response {
        HTMLPage(html: try render(template, values, context: context), status: status).response
    }

    static func baseValues(context: AppRequestContext) -> [String: Any] {
        var values: [String: Any] = [
            "lang": context.language.rawValue,
            "t": context.language.strings,
            "csrf": context.csrfToken,
            "year": Calendar(identifier: .gregorian).component(.year, from: .now),
        ]
        if let user = context.user {
            values["user"] =
                [
                    "username": user.username,
                    "displayName": user.displayName.isEmpty ? user.username : user.displayName,
                    "role": context.language.text("role_\(user.role.rawValue)"),
                    "isAdmin": user.role == .admin,
                    "isEvaluator": user.role == .evaluator,
                ] as [String: Any]
        }
        return values
    }
}

public enum ViewError: Error {
    case missingTemplate(String)
}

/// An HTML response.
public struct HTMLPage: ResponseGenerator {
    public let html: String
    public let status: HTTPResponse.Status

    public init(html: String, status: HTTPResponse.Status = .ok) {
        self.html = html
        self.status = status
    }

    public var response: Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }
}

/// Files bundled with the server (templates, stylesheets).
public enum Resources {
    public static func path(_ name: String) -> String {
        guard let base = Bundle.module.resourceURL else { return name }
        return base.appendingPathComponent(name).path
    }
}

extension Response {
    /// A 303 redirect: after a form post the browser fetches the target with GET.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A CSV file to save, never cached: invitation lists hold live links.
    static func csvDownload(_ csv: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(filename)\"",
                .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv))
        )
    }
}
