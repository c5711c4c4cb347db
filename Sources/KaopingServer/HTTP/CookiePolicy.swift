import Foundation
import Hummingbird

/// The server's cookies, named and marked one way. Behind TLS (`--cookie-secure`) each is
/// `Secure` and carries the `__Host-` prefix: browsers accept such a cookie only from an HTTPS
/// page, only for the whole site (`Path=/`) and never with a `Domain`, so neither a sibling
/// subdomain nor a plain-HTTP page can plant one, which is what a CSRF token or a session
/// cookie must be safe from.
public struct CookiePolicy: Sendable {
    public let secure: Bool

    public init(secure: Bool) {
        self.secure = secure
    }

    public var session: String { name("kp_session") }
    public var csrf: String { name("kp_csrf") }
    public var language: String { name("kp_lang") }

    /// The administrator's session lives under `/admin`; a `__Host-` cookie must cover the site.
    public var sessionPath: String { secure ? "/" : SiteURL.adminPrefix }

    public func name(_ base: String) -> String {
        secure ? "__Host-" + base : base
    }

    /// A cookie for `path` as this policy marks it: HttpOnly, SameSite=Lax, and with the prefix
    /// (and so for the whole site) when secure.
    public func cookie(_ base: String, value: String, maxAge: Int? = nil, path: String = "/") -> Cookie {
        Cookie(name: name(base), value: value, maxAge: maxAge, path: secure ? "/" : path, secure: secure, httpOnly: true, sameSite: .lax)
    }
}
