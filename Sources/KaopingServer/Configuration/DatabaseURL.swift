// Configuration: every setting (flag, KAOPING_* variable, default) read through one list, and
// the addresses it names.

import Foundation

/// A parsed `postgres://user:password@host:port/database?sslmode=…` URL.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// Set when the URL names a unix socket directory with `?host=/path`.
    public var unixSocketDirectory: String?

    public struct ParseError: Error, Equatable {
        public let reason: String
    }

    public init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String?,
        database: String,
        tlsMode: TLSMode = .disable,
        unixSocketDirectory: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.unixSocketDirectory = unixSocketDirectory
    }

    public init(parsing text: String) throws(ParseError) {
        guard let components = URLComponents(string: text) else {
            throw ParseError(reason: "is not a URL: expected postgres://user:password@host:port/database")
        }
        guard let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw ParseError(reason: "must start with postgres:// or postgresql://")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw ParseError(reason: "names no user: expected postgres://user:password@host:port/database")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else {
            throw ParseError(reason: "names no database: expected postgres://user:password@host:port/database")
        }
        var tls = TLSMode.disable
        var socketDirectory: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw ParseError(reason: "has an unknown sslmode '\(item.value ?? "")'")
                }
            case "host":
                socketDirectory = item.value
            default:
                throw ParseError(reason: "has an unknown parameter '\(item.name)'")
            }
        }
        let host = components.host ?? ""
        if host.isEmpty && socketDirectory == nil {
            throw ParseError(reason: "names no host: expected postgres://user:password@host:port/database")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw ParseError(reason: "has an invalid port")
        }
        self.init(
            host: host.isEmpty ? "localhost" : host,
            port: components.port ?? 5432,
            username: user,
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: path.removingPercentEncoding ?? path,
            tlsMode: tls,
            unixSocketDirectory: socketDirectory
        )
    }

    /// The URL with the password masked, for logs.
    public var description: String {
        let auth = password == nil ? username : "\(username):***"
        return "postgres://\(auth)@\(host):\(port)/\(database)"
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }
}
