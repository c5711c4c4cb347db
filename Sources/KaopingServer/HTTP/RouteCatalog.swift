import Hummingbird
import NIOConcurrencyHelpers

/// The routes the application registered, so that a request for a known path with the wrong
/// method gets 405 and an `Allow` header instead of 404.
public final class RouteCatalog: Sendable {
    private let entries = NIOLockedValueBox<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    public init() {}

    func add(_ path: RouterPath, _ method: HTTPRequest.Method) {
        entries.withLockedValue { $0.append((path, method)) }
    }

    public func methods(matching path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        return entries.withLockedValue { entries in
            var methods: [HTTPRequest.Method] = []
            for entry in entries where Self.matches(entry.path, components) && !methods.contains(entry.method) {
                methods.append(entry.method)
            }
            return methods
        }
    }

    static func matches(_ pattern: RouterPath, _ components: [Substring]) -> Bool {
        var index = 0
        for element in pattern.components {
            if element.description == "**" { return true }
            guard index < components.count, element ~= components[index] else { return false }
            index += 1
        }
        return index == components.count
    }
}

/// A router that writes every route it registers into a `RouteCatalog`.
public final class CatalogingRouter<Context: RequestContext>: RouterMethods {
    public let router: Router<Context>
    public let catalog: RouteCatalog

    public init(router: Router<Context>, catalog: RouteCatalog) {
        self.router = router
        self.catalog = catalog
    }

    @discardableResult
    public func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        catalog.add(path, method)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
