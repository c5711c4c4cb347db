import Hummingbird

/// The admin area's start page. Later features add their sections to the navigation.
public struct AdminController: Sendable {
    let views: Views

    public init(views: Views) {
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("", use: home)
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("admin_home", context: context)
    }
}
