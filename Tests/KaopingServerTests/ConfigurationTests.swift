import Foundation
import Logging
import Testing

@testable import KaopingServer

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsWhenNothingIsSet() throws {
        let configuration = try KaopingConfiguration.resolve(flags: [:], environment: ["HOME": "/root"])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.databaseURL == nil)
        #expect(configuration.dataDirectory == ".kaoping")
        // The built-in copies of forms/ and sql/, so that the program works from any directory.
        #expect(configuration.formsDirectory.hasSuffix("/forms"))
        #expect(configuration.sqlDirectory.hasSuffix("/sql"))
        #expect(FileManager.default.fileExists(atPath: configuration.sqlDirectory + "/0001_initial.sql"))
        #expect(FileManager.default.fileExists(atPath: configuration.formsDirectory + "/member-integration.yaml"))
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .text)
        #expect(configuration.publicBaseURL == "http://127.0.0.1:8080")
        #expect(configuration.cookieSecure == false)
    }

    @Test func flagsWinOverEnvironmentWhichWinsOverDefaults() throws {
        let configuration = try KaopingConfiguration.resolve(
            flags: ["port": "9000"],
            environment: [
                "KAOPING_PORT": "9100", "KAOPING_HOST": "0.0.0.0", "KAOPING_LOG_FORMAT": "json", "KAOPING_COOKIE_SECURE": "true",
                "KAOPING_PUBLIC_URL": "https://kaoping.example.gov.cn/",
            ]
        )
        #expect(configuration.port == 9000)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.logFormat == .json)
        #expect(configuration.cookieSecure)
        #expect(configuration.publicBaseURL == "https://kaoping.example.gov.cn")
    }

    @Test func anHTTPSPublicURLMakesCookiesSecureUnlessSaidOtherwise() throws {
        let https = ["public-url": "https://kaoping.example.gov.cn"]
        #expect(try KaopingConfiguration.resolve(flags: https, environment: [:]).cookieSecure)
        #expect(try !KaopingConfiguration.resolve(flags: ["public-url": "http://192.0.2.7:8080"], environment: [:]).cookieSecure)
        #expect(try !KaopingConfiguration.resolve(flags: https.merging(["cookie-secure": "false"]) { $1 }, environment: [:]).cookieSecure)
        #expect(try !KaopingConfiguration.resolve(flags: https, environment: ["KAOPING_COOKIE_SECURE": "false"]).cookieSecure)
    }

    @Test func listeningBeyondLoopbackNeedsAPublicURL() throws {
        do {
            _ = try KaopingConfiguration.resolve(flags: ["host": "0.0.0.0"], environment: [:])
            Issue.record("a server on 0.0.0.0 without --public-url was accepted")
        } catch {
            #expect(error.description.contains("--public-url is not set"))
            #expect(error.description.hasPrefix("configuration error: --host"))
            #expect(!error.description.contains("\n"))
        }
        let local = try KaopingConfiguration.resolve(flags: ["host": "127.0.0.1", "port": "9000"], environment: [:])
        #expect(local.publicBaseURL == "http://127.0.0.1:9000")
    }

    @Test func localOnlyAddressesAreRecognised() {
        for url in [
            "http://127.0.0.1:8080", "http://localhost:8080", "http://10.1.2.3", "http://192.168.1.20:8080", "http://172.20.0.5", "http://[::1]:8080",
            "http://[fd00::1]/",
        ] {
            #expect(PublicAddress.isLocalOnly(url), "\(url)")
        }
        for url in ["https://kaoping.example.gov.cn", "http://203.0.113.7:8080", "http://172.32.0.1", "https://fdic.example.com"] {
            #expect(!PublicAddress.isLocalOnly(url), "\(url)")
        }
    }

    @Test func theReadmeListsEverySetting() throws {
        let readme = try String(contentsOfFile: TestDatabaseServer.repositoryRoot + "/README.md", encoding: .utf8)
        for setting in KaopingConfiguration.settings {
            #expect(readme.contains("`\(setting.flag)`") && readme.contains("`\(setting.environmentVariable)`"), "\(setting.key)")
        }
    }

    @Test func databaseURLIsParsed() throws {
        let configuration = try KaopingConfiguration.resolve(
            flags: ["database-url": "postgres://kp:s%40cret@db.example:6543/kaoping?sslmode=require"],
            environment: [:]
        )
        let url = try #require(configuration.databaseURL)
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.username == "kp")
        #expect(url.password == "s@cret")
        #expect(url.database == "kaoping")
        #expect(url.tlsMode == .require)
        #expect(url.description == "postgres://kp:***@db.example:6543/kaoping")
    }

    @Test func theStandbyToReadFromIsASettingOfItsOwnAndNeverTheDatabase() throws {
        let configuration = try KaopingConfiguration.resolve(
            flags: ["database-url": "postgres://kp@primary.example:5000/kaoping"],
            environment: ["KAOPING_READ_DATABASE_URL": "postgres://kp@standby.example:5001/kaoping"]
        )
        #expect(configuration.databaseURL?.host == "primary.example")
        #expect(configuration.readDatabaseURL?.host == "standby.example")
        #expect(configuration.readDatabaseURL?.port == 5001)
        #expect(try KaopingConfiguration.resolve(flags: [:], environment: [:]).readDatabaseURL == nil)
        #expect(throws: ConfigurationError.self) {
            try KaopingConfiguration.resolve(flags: ["read-database-url": "standby.example:5001"], environment: [:])
        }
    }

    @Test func publicURLLosesItsTrailingSlash() throws {
        let configuration = try KaopingConfiguration.resolve(flags: ["public-url": "https://kp.example.gov.cn/"], environment: [:])
        #expect(configuration.publicBaseURL == "https://kp.example.gov.cn")
    }

    @Test(
        arguments: [
            (["port": "eighty"], [String: String](), "--port (port) must be a whole number from 1 to 65535, not 'eighty'"),
            ([:], ["KAOPING_PORT": "70000"], "KAOPING_PORT (port) must be a whole number from 1 to 65535, not '70000'"),
            ([:], ["KAOPING_PROT": "80"], "KAOPING_PROT is not a known setting"),
            (["log-level": "loud"], [:], "--log-level (log-level) must be one of"),
            (["log-format": "xml"], [:], "--log-format (log-format) must be text or json, not 'xml'"),
            (["cookie-secure": "maybe"], [:], "--cookie-secure (cookie-secure) must be true or false, not 'maybe'"),
            (["database-url": "mysql://a@b/c"], [:], "--database-url (database-url) must start with postgres://"),
            (["database-url": "postgres://host/db"], [:], "--database-url (database-url) names no user"),
            (["database-url": "postgres://u@host"], [:], "--database-url (database-url) names no database"),
            (["public-url": "kp.example"], [:], "--public-url (public-url) must be an http:// or https:// URL"),
            (["host": " "], [:], "--host (host) is empty"),
        ] as [([String: String], [String: String], String)]
    )
    func malformedSettingsGiveOneClearLine(flags: [String: String], environment: [String: String], expected: String) {
        do {
            _ = try KaopingConfiguration.resolve(flags: flags, environment: environment)
            Issue.record("expected an error containing \(expected)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func everySettingHasAFlagAndAnEnvironmentVariable() {
        let keys = KaopingConfiguration.settings.map(\.key)
        #expect(Set(keys).count == keys.count)
        for setting in KaopingConfiguration.settings {
            #expect(setting.environmentVariable.hasPrefix("KAOPING_"))
            #expect(!setting.help.isEmpty)
        }
        #expect(KaopingConfiguration.settings.first { $0.key == "database-url" }?.environmentVariable == "KAOPING_DATABASE_URL")
    }

    @Test func languageChoice() {
        #expect(Language.choose(query: nil, cookie: nil, acceptLanguage: nil) == .chinese)
        #expect(Language.choose(query: nil, cookie: nil, acceptLanguage: "en-US,en;q=0.9,zh-CN;q=0.8") == .english)
        #expect(Language.choose(query: nil, cookie: nil, acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .chinese)
        #expect(Language.choose(query: nil, cookie: nil, acceptLanguage: "fr-FR,en;q=0.5") == .english)
        #expect(Language.choose(query: "en", cookie: "zh-Hans", acceptLanguage: "zh-CN") == .english)
        #expect(Language.choose(query: nil, cookie: "en", acceptLanguage: "zh-CN") == .english)
    }
}
