import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import KaopingServer

@Suite("Health, metrics, errors and headers", .timeLimit(.minutes(2)))
struct OperationsTests {
    @Test func healthAndReadiness() async throws {
        try await TestApp.run { client, _ in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(String(buffer: health.body).contains("\"ok\""))
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body).contains("\"ready\""))
        }
    }

    @Test func readinessFailsWhenTheDatabaseStops() async throws {
        let logger: Logger = {
            var logger = Logger(label: "kaoping.tests.readiness")
            logger.logLevel = .critical
            return logger
        }()
        let directory = NSTemporaryDirectory() + "kaoping-ready-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory, serverSettings: ["fsync": "off"])
        let running = try await cluster.start(logger: logger)
        defer { cluster.stopNow() }
        try await DatabaseBootstrap.createDatabaseIfMissing(running.url, logger: logger)

        try await TestApp.run(database: running.url) { client, _ in
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            try await cluster.stop(logger: logger)
            let unready = try await client.execute(uri: "/readyz", method: .get)
            #expect(unready.status == .serviceUnavailable)
            #expect(String(buffer: unready.body).contains("database not reachable"))
            // The process itself is still alive.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await TestApp.run { client, harness in
            _ = try await client.execute(uri: "/healthz", method: .get)
            _ = try await client.execute(uri: "/admin/login", method: .get)
            _ = try await client.execute(uri: "/no/such/page", method: .get)
            let metrics = try await harness.metrics()
            let text = metrics.text
            #expect(metrics.status == .ok)
            #expect(text.contains("kaoping_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"), "\(text)")
            #expect(text.contains("kaoping_http_requests_total{route=\"/admin/login\",method=\"GET\",status=\"200\"} 1"))
            #expect(text.contains("kaoping_http_requests_total{route=\"NotFound\",method=\"GET\",status=\"404\"} 1"))
            #expect(text.contains("kaoping_http_request_duration_seconds_bucket{route=\"/healthz\""))
            #expect(text.contains("kaoping_db_connections_max 4.0"))
            #expect(text.contains("kaoping_db_connections_in_use"))
        }
    }

    @Test func notFoundIsAFriendlyPageInTheRightLanguage() async throws {
        try await TestApp.run { client, _ in
            let chinese = try await client.execute(uri: "/nothing-here", method: .get)
            #expect(chinese.status == .notFound)
            #expect(chinese.headers[.contentType] == "text/html; charset=utf-8")
            let text = String(buffer: chinese.body)
            #expect(text.contains("找不到您要访问的页面"))
            #expect(text.contains("<html lang=\"zh-Hans\">"))
            let requestID = try #require(chinese.headers[HTTPField.Name("X-Request-Id")!])
            #expect(text.contains(requestID))

            let english = try await client.execute(uri: "/nothing-here", method: .get, headers: [.acceptLanguage: "en-GB,en;q=0.9"])
            #expect(String(buffer: english.body).contains("The page you asked for does not exist."))
            let asked = try await client.execute(uri: "/nothing-here?lang=en", method: .get)
            #expect(String(buffer: asked.body).contains("<html lang=\"en\">"))
            #expect(asked.headers[values: .setCookie].contains { $0.hasPrefix("kp_lang=en") })
        }
    }

    @Test func wrongMethodGets405WithAllow() async throws {
        try await TestApp.run { client, _ in
            let response = try await client.execute(uri: "/healthz", method: .post)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET")
            #expect(String(buffer: response.body).contains("此页面不支持这种访问方式"))
            let login = try await client.execute(uri: "/admin/login", method: .delete)
            #expect(login.status == .methodNotAllowed)
            #expect(login.headers[.allow] == "GET, POST")
        }
    }

    @Test func apiErrorsAreJSON() async throws {
        try await TestApp.run { client, _ in
            let response = try await client.execute(uri: "/api/v1/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [String: String]]
            #expect(body?["error"]?["status"] == "404")
            #expect(body?["error"]?["requestId"]?.isEmpty == false)
        }
    }

    @Test func everyPageCarriesSecurityHeaders() async throws {
        try await TestApp.run { client, _ in
            for path in ["/admin/login", "/nothing", "/healthz"] {
                let response = try await client.execute(uri: path, method: .get)
                let csp = try #require(response.headers[.contentSecurityPolicy])
                #expect(csp.contains("script-src 'self'"))
                #expect(!csp.contains("unsafe-inline"))
                #expect(csp.contains("frame-ancestors 'none'"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            let css = try await client.execute(uri: "/static/kaoping.css", method: .get)
            #expect(css.status == .ok)
            #expect(String(buffer: css.body).contains("@media print"))
        }
    }

    @Test func secureCookiesWhenConfigured() async throws {
        try await TestApp.run(configure: { $0.cookieSecure = true }) { client, _ in
            let response = try await client.execute(uri: "/admin/login", method: .get)
            // The prefix makes browsers take it only from HTTPS, for the whole site, from this host.
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("__Host-kp_csrf=") })
            #expect(cookie.contains("Secure"))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("Path=/") && !cookie.contains("Domain"))
            #expect(!response.headers[values: .setCookie].contains { $0.hasPrefix("kp_csrf=") })
        }
    }

    @Test func internalErrorsShowNoDetails() async throws {
        // A route that fails the way a bug would: the page must not leak the error text.
        let router = Router(context: AppRequestContext.self)
        let views = try await Views()
        router.add(middleware: ErrorPageMiddleware(views: views, routes: RouteCatalog()))
        struct Secret: Error, CustomStringConvertible { var description: String { "password=hunter2 at line 42" } }
        router.get("/boom") { _, _ -> Response in throw Secret() }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/boom", method: .get)
            #expect(response.status == .internalServerError)
            let text = String(buffer: response.body)
            #expect(text.contains("系统出现内部错误"))
            #expect(!text.contains("hunter2"))
        }
    }
}
