// HTTP: the web adapter. Building the application and its router, the request context, paths
// (SiteURL), interface text, and in the folders below the controllers, middleware and views.
// Handlers parse input and present output; the rules and the SQL are elsewhere.

import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore

/// What every request carries besides the request itself.
public struct AppRequestContext: SessionRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let sessions: SessionContext<AdminSession>
    public let remoteAddress: SocketAddress?
    /// The signed-in account, set by `AuthenticationMiddleware` on admin pages.
    public var user: User?
    public var language: Language
    /// The token every state-changing form must echo back (see `CSRFMiddleware`).
    public var csrfToken: String
    /// The API token a request under /api presented, set by `APITokenMiddleware`.
    public var apiToken: (id: UUID, name: String)?
    /// The round a results route names, set by `RoundResolverMiddleware`.
    public var round: ResultsService.Round?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.sessions = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.user = nil
        self.language = .chinese
        self.csrfToken = ""
        self.apiToken = nil
        self.round = nil
        self.maxUploadSize = 256 * 1024
    }

    /// Largest body a handler reads; set from the configuration by `BodyLimitMiddleware`.
    public var maxUploadSize: Int
}

extension AppRequestContext {
    /// The signed-in person, or the API token, as the audit log names them.
    var auditActor: AuditActor {
        if let user { return .account(user) }
        if let apiToken { return .apiToken(name: apiToken.name) }
        return AuditActor(userID: nil, name: "")
    }
}
