import Hummingbird
import NIOConcurrencyHelpers

/// The routes the application registered, so that a request for a known path with the wrong
/// method gets 405 and an `Allow` header instead of 404.
public final class RouteCatalog: Sendable {
    /// A registered route: its path as registered (`/admin/rounds/{id}`) and its method.
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        public let path: String
        public let method: HTTPRequest.Method
        public var description: String { "\(method.rawValue) \(path)" }
    }

    private struct Entry {
        let path: String
        let elements: [RouterPath.Element]
        /// Where a `**` makes the rest of any path match, worked out once at registration.
        let recursiveFrom: Int?
        let method: HTTPRequest.Method
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    public init() {}

    func add(_ path: RouterPath, _ method: HTTPRequest.Method) {
        let elements = Array(path.components)
        let entry = Entry(
            path: "/" + elements.map(\.description).joined(separator: "/"),
            elements: elements,
            recursiveFrom: elements.firstIndex { $0.description == "**" },
            method: method
        )
        entries.withLockedValue { $0.append(entry) }
    }

    /// Every route, in the order registered: what the access-policy and audit tests walk.
    public var routes: [Route] {
        entries.withLockedValue { $0.map { Route(path: $0.path, method: $0.method) } }
    }

    public func methods(matching path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        return entries.withLockedValue { entries in
            var methods: [HTTPRequest.Method] = []
            for entry in entries where !methods.contains(entry.method) && Self.matches(entry, components) {
                methods.append(entry.method)
            }
            return methods
        }
    }

    private static func matches(_ entry: Entry, _ components: [Substring]) -> Bool {
        for (index, element) in entry.elements.enumerated() {
            if index == entry.recursiveFrom { return true }
            guard index < components.count, element ~= components[index] else { return false }
        }
        return entry.elements.count == components.count
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
