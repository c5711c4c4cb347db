import Foundation
import KaopingBundledFiles
import Logging

/// Everything the server and the command-line tools need to know, resolved once at start-up.
///
/// Each value comes from a command-line flag, else a `KAOPING_*` environment variable, else the
/// default in `KaopingConfiguration.settings`. Resolution either yields a complete configuration
/// or a `ConfigurationError` that names the setting and what is wrong with it.
public struct KaopingConfiguration: Sendable, Equatable {
    public enum LogFormat: String, Sendable, CaseIterable { case text, json }

    public var host: String
    public var port: Int
    /// `nil` means: run the embedded PostgreSQL cluster under `dataDirectory/postgres`.
    public var databaseURL: DatabaseURL?
    public var databasePoolSize: Int
    /// A streaming standby of `databaseURL` the results are read from; `nil`: the primary.
    public var readDatabaseURL: DatabaseURL? = nil
    public var dataDirectory: String
    public var formsDirectory: String
    public var sqlDirectory: String
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Base of the links handed to respondents; defaults to `http://host:port`.
    public var publicBaseURL: String
    public var cookieSecure: Bool
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it).
    public var trustForwardedFor: Bool
    public var sessionLifetimeHours: Int
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Longest text answer accepted, in characters, where a form item sets no limit of its own.
    public var maxTextLength: Int
    /// Largest file upload (organisation lists), in bytes.
    public var maxUploadBytes: Int
    /// File holding the secret invitation tokens are derived from; `nil`: `<data dir>/secret`.
    public var secretFile: String?
    /// Public answers one address may send per branch per hour. Generous on purpose: a service
    /// hall's shared tablet, or a whole office behind one NAT address, is one address for many
    /// honest people; the limit only slows one person filling the box, and the branch's public
    /// cap bounds the rest.
    public var publicAnswersPerHour: Int = 60
    /// A connection that sends nothing for this long is closed: a request that stalls before
    /// its head is complete, or a kept-alive connection with no next request.
    public var idleTimeoutSeconds: Int = 30
    /// Once a request has started, all of it (head and body) must arrive within this time.
    public var requestTimeoutSeconds: Int = 120
    /// Where `/metrics` is served, on a listener of its own apart from the application's port;
    /// `nil` (`off`): nowhere.
    public var metricsAddress: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 9464)

    /// Where the invitation secret lives. Every instance must use the same secret.
    public var resolvedSecretFile: String { secretFile ?? dataDirectory + "/secret" }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        databaseURL: DatabaseURL? = nil,
        databasePoolSize: Int = 20,
        dataDirectory: String = ".kaoping",
        formsDirectory: String = BundledFiles.formsDirectory,
        sqlDirectory: String = BundledFiles.sqlDirectory,
        logLevel: Logger.Level = .info,
        logFormat: LogFormat = .text,
        publicBaseURL: String? = nil,
        cookieSecure: Bool = false,
        trustForwardedFor: Bool = false,
        sessionLifetimeHours: Int = 12,
        maxBodyBytes: Int = 256 * 1024,
        maxTextLength: Int = 2000,
        maxUploadBytes: Int = 20 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.databasePoolSize = databasePoolSize
        self.dataDirectory = dataDirectory
        self.formsDirectory = formsDirectory
        self.sqlDirectory = sqlDirectory
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.publicBaseURL = publicBaseURL ?? "http://\(host):\(port)"
        self.cookieSecure = cookieSecure
        self.trustForwardedFor = trustForwardedFor
        self.sessionLifetimeHours = sessionLifetimeHours
        self.maxBodyBytes = maxBodyBytes
        self.maxTextLength = maxTextLength
        self.maxUploadBytes = maxUploadBytes
    }
}

/// A host and port to listen on (`127.0.0.1:9464`, `[::1]:9464`).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    /// 0: any free port, which the listener reports once it runs.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `host:port`, the host of an IPv6 address in brackets; `nil` for anything else.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else { return nil }
        self.init(host: host, port: port)
    }
}

/// A setting that could not be accepted. The description is the one line printed at start-up.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let setting: String
    public let source: String
    public let reason: String

    public var description: String {
        "configuration error: \(source) \(setting.isEmpty ? "" : "(\(setting)) ")\(reason)"
    }
}

/// One row of the settings table: its names in each source, its default, what it means, and
/// how a value given for it is read into the configuration. Each setting is written here once:
/// `resolve`, the command line's help and the README's table all come from this list.
public struct ConfigurationSetting: Sendable {
    public let key: String
    public let help: String
    public let defaultDescription: String
    let apply: @Sendable (inout KaopingConfiguration, SettingValue) throws(ConfigurationError) -> Void

    public var flag: String { "--\(key)" }
    public var environmentVariable: String {
        "KAOPING_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    init(
        _ key: String,
        _ help: String,
        default defaultDescription: String,
        apply: @escaping @Sendable (inout KaopingConfiguration, SettingValue) throws(ConfigurationError) -> Void
    ) {
        self.key = key
        self.help = help
        self.defaultDescription = defaultDescription
        self.apply = apply
    }
}

/// A value given for a setting, with where it came from (`--port`, `KAOPING_PORT`), read as
/// the setting needs it; a value that does not fit fails with one line naming both.
struct SettingValue {
    let key: String
    let text: String
    let source: String

    func error(_ reason: String) -> ConfigurationError {
        ConfigurationError(setting: key, source: source, reason: reason)
    }

    func integer(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let number = Int(text), range.contains(number) else {
            throw error("must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    func boolean() throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw error("must be true or false, not '\(text)'")
        }
    }
}

extension KaopingConfiguration {
    /// The complete list of settings, in the order they are read.
    public static let settings: [ConfigurationSetting] = [
        .init("host", "Address the HTTP server listens on.", default: "127.0.0.1") { $0.host = $1.text },
        .init("port", "TCP port of the HTTP server.", default: "8080") { config, value throws(ConfigurationError) in
            config.port = try value.integer(in: 1...65535)
        },
        .init(
            "metrics-address",
            "host:port of a listener of its own serving only GET /metrics (Prometheus text), or off.",
            default: "127.0.0.1:9464"
        ) { config, value throws(ConfigurationError) in
            if value.text.lowercased() == "off" {
                config.metricsAddress = nil
            } else if let address = ListenAddress(parsing: value.text) {
                config.metricsAddress = address
            } else {
                throw value.error("must be host:port (127.0.0.1:9464, [::1]:9464) or off, not '\(value.text)'")
            }
        },
        .init(
            "database-url",
            "PostgreSQL URL postgres://user:pass@host:port/db[?sslmode=disable|prefer|require]. Unset: embedded cluster in <data-dir>/postgres.",
            default: "(embedded)"
        ) { config, value throws(ConfigurationError) in
            do throws(DatabaseURL.ParseError) {
                config.databaseURL = try DatabaseURL(parsing: value.text)
            } catch {
                throw value.error(error.reason)
            }
        },
        .init("database-pool-size", "Maximum PostgreSQL connections per instance.", default: "20") { config, value throws(ConfigurationError) in
            config.databasePoolSize = try value.integer(in: 1...500)
        },
        .init(
            "read-database-url",
            "PostgreSQL URL of a streaming standby of the database: rankings, reports and downloads are read from it (the primary while it does not answer).",
            default: "(none: the primary)"
        ) { config, value throws(ConfigurationError) in
            do throws(DatabaseURL.ParseError) {
                config.readDatabaseURL = try DatabaseURL(parsing: value.text)
            } catch {
                throw value.error(error.reason)
            }
        },
        .init("data-dir", "Directory for the embedded database and local state.", default: ".kaoping") { $0.dataDirectory = $1.text },
        .init("forms-dir", "Directory of form definition files.", default: "(built in: forms/ of the source tree)") { $0.formsDirectory = $1.text },
        .init("sql-dir", "Directory of SQL migrations (NNNN_name.sql).", default: "(built in: sql/ of the source tree)") {
            $0.sqlDirectory = $1.text
        },
        .init("log-level", "trace, debug, info, notice, warning, error or critical.", default: "info") { config, value throws(ConfigurationError) in
            guard let level = Logger.Level(rawValue: value.text.lowercased()) else {
                throw value.error("must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(value.text)'")
            }
            config.logLevel = level
        },
        .init("log-format", "text, or json for one JSON object per line.", default: "text") { config, value throws(ConfigurationError) in
            guard let format = LogFormat(rawValue: value.text.lowercased()) else {
                throw value.error("must be text or json, not '\(value.text)'")
            }
            config.logFormat = format
        },
        .init("public-url", "Public base URL used in invitation links and QR codes.", default: "http://<host>:<port>") {
            config,
            value throws(ConfigurationError) in
            let trimmed = value.text.hasSuffix("/") ? String(value.text.dropLast()) : value.text
            guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"), trimmed.count > "https://".count, !trimmed.contains(" ") else {
                throw value.error("must be an http:// or https:// URL, not '\(value.text)'")
            }
            config.publicBaseURL = trimmed
        },
        .init(
            "cookie-secure",
            "Mark cookies Secure, with the __Host- prefix (on by itself when --public-url is https://).",
            default: "false; true with an https:// public URL"
        ) {
            config,
            value throws(ConfigurationError) in
            config.cookieSecure = try value.boolean()
        },
        .init("trust-forwarded-for", "Take the client address from X-Forwarded-For (behind a proxy only).", default: "false") {
            config,
            value throws(ConfigurationError) in
            config.trustForwardedFor = try value.boolean()
        },
        .init("session-hours", "Hours an administrator stays signed in.", default: "12") { config, value throws(ConfigurationError) in
            config.sessionLifetimeHours = try value.integer(in: 1...24 * 30)
        },
        .init("max-body-kib", "Largest request body accepted, in KiB.", default: "256") { config, value throws(ConfigurationError) in
            config.maxBodyBytes = try value.integer(in: 16...65536) * 1024
        },
        .init(
            "secret-file",
            "File with the secret invitation links and the ballot-sealing key are derived from (created if missing); share it between instances.",
            default: "<data-dir>/secret"
        ) { $0.secretFile = $1.text },
        .init(
            "public-per-hour",
            "Public answers one address may send per branch per hour (one address may be a shared tablet or an office's NAT).",
            default: "60"
        ) { config, value throws(ConfigurationError) in
            config.publicAnswersPerHour = try value.integer(in: 1...100_000)
        },
        .init("max-upload-mib", "Largest file upload (branch and member lists), in MiB.", default: "20") { config, value throws(ConfigurationError) in
            config.maxUploadBytes = try value.integer(in: 1...1024) * 1024 * 1024
        },
        .init("max-text-length", "Longest text answer, in characters, where a form item sets no limit.", default: "2000") {
            config,
            value throws(ConfigurationError) in
            config.maxTextLength = try value.integer(in: 10...100_000)
        },
        .init(
            "idle-timeout",
            "Seconds a connection may send nothing (an unfinished request head, an idle keep-alive) before it is closed.",
            default: "30"
        ) { config, value throws(ConfigurationError) in
            config.idleTimeoutSeconds = try value.integer(in: 1...3600)
        },
        .init("request-timeout", "Seconds within which a request, once started, must have arrived whole (head and body).", default: "120") {
            config,
            value throws(ConfigurationError) in
            config.requestTimeoutSeconds = try value.integer(in: 1...3600)
        },
    ]

    /// Resolves flags (by setting key, without the leading dashes), then `KAOPING_*` environment
    /// variables, then defaults.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line, keyed by setting key (`"port"`).
    ///   - environment: the process environment; unknown `KAOPING_*` variables are rejected so
    ///     that a typo does not silently fall back to a default.
    ///   - ignoredEnvironment: `KAOPING_*` variables that are not settings (the tests' own).
    public static func resolve(
        flags: [String: String],
        environment: [String: String],
        ignoring ignoredEnvironment: Set<String> = ["KAOPING_TEST_DATABASE_URL"]
    ) throws(ConfigurationError) -> KaopingConfiguration {
        let known = Set(settings.map(\.key))
        for key in flags.keys.sorted() where !known.contains(key) {
            throw ConfigurationError(setting: "", source: "--\(key)", reason: "is not a known setting")
        }
        let knownVariables = Set(settings.map(\.environmentVariable))
        for name in environment.keys.sorted()
        where name.hasPrefix("KAOPING_") && !knownVariables.contains(name) && !ignoredEnvironment.contains(name) {
            throw ConfigurationError(setting: "", source: name, reason: "is not a known setting (see kaoping --help)")
        }

        var config = KaopingConfiguration()
        var given: Set<String> = []
        for setting in settings {
            let value: SettingValue
            if let flag = flags[setting.key] {
                value = SettingValue(key: setting.key, text: flag, source: setting.flag)
            } else if let variable = environment[setting.environmentVariable] {
                value = SettingValue(key: setting.key, text: variable, source: setting.environmentVariable)
            } else {
                continue
            }
            if value.text.trimmingCharacters(in: .whitespaces).isEmpty { throw value.error("is empty") }
            try setting.apply(&config, value)
            given.insert(setting.key)
        }
        if !given.contains("public-url") {
            // Listening beyond this machine means people are meant to come: the links and QR codes
            // handed to them must carry an address they can reach, which only the operator knows.
            if !PublicAddress.isLoopbackListener(config.host) {
                throw ConfigurationError(
                    setting: "public-url",
                    source: flags["host"] != nil ? "--host" : "KAOPING_HOST",
                    reason:
                        "listens on \(config.host), beyond this machine, but --public-url is not set: invitation links and QR codes would point at an address phones cannot open; set --public-url (KAOPING_PUBLIC_URL) to the address people use, e.g. https://kaoping.example.gov.cn"
                )
            }
            let host = config.host
            config.publicBaseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(config.port)"
        }
        // People reach a server with an https:// address through TLS: its cookies must never
        // travel over plain HTTP, nor be planted from it.
        if !given.contains("cookie-secure") && config.publicBaseURL.hasPrefix("https://") { config.cookieSecure = true }
        return config
    }
}
