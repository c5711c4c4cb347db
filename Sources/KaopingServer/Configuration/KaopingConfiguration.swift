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

/// A setting that could not be accepted. The description is the one line printed at start-up.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let setting: String
    public let source: String
    public let reason: String

    public var description: String {
        "configuration error: \(source) \(setting.isEmpty ? "" : "(\(setting)) ")\(reason)"
    }
}

/// One row of the settings table: its names in each source, its default and what it means.
public struct ConfigurationSetting: Sendable {
    public let key: String
    public let help: String
    public let defaultDescription: String
    public var flag: String { "--\(key)" }
    public var environmentVariable: String {
        "KAOPING_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

extension KaopingConfiguration {
    /// The complete list of settings. The README's configuration table is written from it.
    public static let settings: [ConfigurationSetting] = [
        .init(key: "host", help: "Address the HTTP server listens on.", defaultDescription: "127.0.0.1"),
        .init(key: "port", help: "TCP port of the HTTP server.", defaultDescription: "8080"),
        .init(
            key: "database-url",
            help:
                "PostgreSQL URL postgres://user:pass@host:port/db[?sslmode=disable|prefer|require]. Unset: embedded cluster in <data-dir>/postgres.",
            defaultDescription: "(embedded)"
        ),
        .init(key: "database-pool-size", help: "Maximum PostgreSQL connections per instance.", defaultDescription: "20"),
        .init(key: "data-dir", help: "Directory for the embedded database and local state.", defaultDescription: ".kaoping"),
        .init(key: "forms-dir", help: "Directory of form definition files.", defaultDescription: "(built in: forms/ of the source tree)"),
        .init(key: "sql-dir", help: "Directory of SQL migrations (NNNN_name.sql).", defaultDescription: "(built in: sql/ of the source tree)"),
        .init(key: "log-level", help: "trace, debug, info, notice, warning, error or critical.", defaultDescription: "info"),
        .init(key: "log-format", help: "text, or json for one JSON object per line.", defaultDescription: "text"),
        .init(key: "public-url", help: "Public base URL used in invitation links and QR codes.", defaultDescription: "http://<host>:<port>"),
        .init(key: "cookie-secure", help: "Mark cookies Secure (set true when served over HTTPS).", defaultDescription: "false"),
        .init(key: "trust-forwarded-for", help: "Take the client address from X-Forwarded-For (behind a proxy only).", defaultDescription: "false"),
        .init(key: "session-hours", help: "Hours an administrator stays signed in.", defaultDescription: "12"),
        .init(key: "max-body-kib", help: "Largest request body accepted, in KiB.", defaultDescription: "256"),
        .init(
            key: "secret-file",
            help: "File with the secret invitation links are derived from (created if missing); share it between instances.",
            defaultDescription: "<data-dir>/secret"
        ),
        .init(
            key: "public-per-hour",
            help: "Public answers one address may send per branch per hour (one address may be a shared tablet or an office's NAT).",
            defaultDescription: "60"
        ),
        .init(key: "max-upload-mib", help: "Largest file upload (branch and member lists), in MiB.", defaultDescription: "20"),
        .init(key: "max-text-length", help: "Longest text answer, in characters, where a form item sets no limit.", defaultDescription: "2000"),
        .init(
            key: "idle-timeout",
            help: "Seconds a connection may send nothing (an unfinished request head, an idle keep-alive) before it is closed.",
            defaultDescription: "30"
        ),
        .init(
            key: "request-timeout",
            help: "Seconds within which a request, once started, must have arrived whole (head and body).",
            defaultDescription: "120"
        ),
    ]

    /// Resolves flags (by setting key, without the leading dashes), then `KAOPING_*` environment
    /// variables, then defaults.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line, keyed by setting key (`"port"`).
    ///   - environment: the process environment; unknown `KAOPING_*` variables are rejected so
    ///     that a typo does not silently fall back to a default.
    ///   - allowedKeys: the settings this command understands; others are ignored when they come
    ///     from the environment (a `migrate` run does not care about `KAOPING_PORT`).
    public static func resolve(
        flags: [String: String],
        environment: [String: String],
        ignoring ignoredEnvironment: Set<String> = ["KAOPING_TEST_DATABASE_URL"]
    ) throws(ConfigurationError) -> KaopingConfiguration {
        let known = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })
        for key in flags.keys where known[key] == nil {
            throw ConfigurationError(setting: "", source: "--\(key)", reason: "is not a known setting")
        }
        let knownVariables = Set(settings.map(\.environmentVariable))
        for name in environment.keys.sorted()
        where name.hasPrefix("KAOPING_") && !knownVariables.contains(name) && !ignoredEnvironment.contains(name) {
            throw ConfigurationError(setting: "", source: name, reason: "is not a known setting (see kaoping --help)")
        }

        var reader = SettingReader(flags: flags, environment: environment, known: known)
        var config = KaopingConfiguration()
        config.host = try reader.string("host") ?? config.host
        config.port = try reader.integer("port", in: 1...65535) ?? config.port
        if let url = try reader.value("database-url") {
            do {
                config.databaseURL = try DatabaseURL(parsing: url.value)
            } catch {
                throw reader.error("database-url", url.source, error.reason)
            }
        }
        config.databasePoolSize = try reader.integer("database-pool-size", in: 1...500) ?? config.databasePoolSize
        config.dataDirectory = try reader.string("data-dir") ?? config.dataDirectory
        config.formsDirectory = try reader.string("forms-dir") ?? config.formsDirectory
        config.sqlDirectory = try reader.string("sql-dir") ?? config.sqlDirectory
        if let level = try reader.value("log-level") {
            guard let parsed = Logger.Level(rawValue: level.value.lowercased()) else {
                throw reader.error(
                    "log-level",
                    level.source,
                    "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(level.value)'"
                )
            }
            config.logLevel = parsed
        }
        if let format = try reader.value("log-format") {
            guard let parsed = LogFormat(rawValue: format.value.lowercased()) else {
                throw reader.error("log-format", format.source, "must be text or json, not '\(format.value)'")
            }
            config.logFormat = parsed
        }
        config.cookieSecure = try reader.boolean("cookie-secure") ?? config.cookieSecure
        config.trustForwardedFor = try reader.boolean("trust-forwarded-for") ?? config.trustForwardedFor
        config.sessionLifetimeHours = try reader.integer("session-hours", in: 1...24 * 30) ?? config.sessionLifetimeHours
        config.maxBodyBytes = (try reader.integer("max-body-kib", in: 16...65536)).map { $0 * 1024 } ?? config.maxBodyBytes
        config.maxTextLength = try reader.integer("max-text-length", in: 10...100_000) ?? config.maxTextLength
        config.maxUploadBytes = (try reader.integer("max-upload-mib", in: 1...1024)).map { $0 * 1024 * 1024 } ?? config.maxUploadBytes
        config.secretFile = try reader.string("secret-file")
        config.publicAnswersPerHour = try reader.integer("public-per-hour", in: 1...100_000) ?? config.publicAnswersPerHour
        config.idleTimeoutSeconds = try reader.integer("idle-timeout", in: 1...3600) ?? config.idleTimeoutSeconds
        config.requestTimeoutSeconds = try reader.integer("request-timeout", in: 1...3600) ?? config.requestTimeoutSeconds
        if let url = try reader.value("public-url") {
            let trimmed = url.value.hasSuffix("/") ? String(url.value.dropLast()) : url.value
            guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"), trimmed.count > "https://".count,
                !trimmed.contains(" ")
            else {
                throw reader.error("public-url", url.source, "must be an http:// or https:// URL, not '\(url.value)'")
            }
            config.publicBaseURL = trimmed
        } else {
            // Listening beyond this machine means people are meant to come: the links and QR codes
            // handed to them must carry an address they can reach, which only the operator knows.
            if !PublicAddress.isLoopbackListener(config.host) {
                let source = flags["host"] != nil ? "--host" : "KAOPING_HOST"
                throw reader.error(
                    "public-url",
                    source,
                    "listens on \(config.host), beyond this machine, but --public-url is not set: invitation links and QR codes would point at an address phones cannot open; set --public-url (KAOPING_PUBLIC_URL) to the address people use, e.g. https://kaoping.example.gov.cn"
                )
            }
            let host = config.host
            config.publicBaseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(config.port)"
        }
        return config
    }
}

private struct SettingReader {
    let flags: [String: String]
    let environment: [String: String]
    let known: [String: ConfigurationSetting]

    struct Found {
        let value: String
        let source: String
    }

    func error(_ key: String, _ source: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(setting: key, source: source, reason: reason)
    }

    mutating func value(_ key: String) throws(ConfigurationError) -> Found? {
        let setting = known[key]!
        let found: Found?
        if let flag = flags[key] {
            found = Found(value: flag, source: setting.flag)
        } else if let variable = environment[setting.environmentVariable] {
            found = Found(value: variable, source: setting.environmentVariable)
        } else {
            found = nil
        }
        if let found, found.value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw error(key, found.source, "is empty")
        }
        return found
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        try value(key)?.value
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let found = try value(key) else { return nil }
        guard let number = Int(found.value), range.contains(number) else {
            throw error(key, found.source, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(found.value)'")
        }
        return number
    }

    mutating func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let found = try value(key) else { return nil }
        switch found.value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw error(key, found.source, "must be true or false, not '\(found.value)'")
        }
    }
}
