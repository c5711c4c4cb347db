import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import KaopingServer

@Suite("Accounts and sessions", .timeLimit(.minutes(2)))
struct AuthTests {
    @Test func signInReachesTheAdminAreaAndSignOutLeavesIt() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("zhang.wei", password: "correct horse battery")
            var browser = Browser(client)

            let protected = try await browser.get("/admin")
            #expect(protected.status == .seeOther)
            #expect(protected.location == "/admin/login")

            let page = try await browser.get("/admin/login")
            #expect(page.status == .ok)
            #expect(page.text.contains("name=\"_csrf\" value=\"\(browser.csrfToken ?? "-")\""))
            #expect(page.text.contains("<label for=\"username\">用户名</label>"))

            let login = try await browser.post("/admin/login", form: [("username", "zhang.wei"), ("password", "correct horse battery")])
            #expect(login.status == .seeOther)
            #expect(login.location == "/admin")
            let sessionCookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("kp_session=") })
            #expect(sessionCookie.contains("HttpOnly"))
            #expect(sessionCookie.contains("SameSite=Lax"))
            #expect(!sessionCookie.contains("Secure"))

            let home = try await browser.get("/admin")
            #expect(home.status == .ok)
            #expect(home.text.contains("zhang.wei"))
            #expect(home.text.contains("欢迎使用考评系统"))
            #expect(home.headers[.cacheControl] == "no-store")

            let logout = try await browser.post("/admin/logout", form: [])
            #expect(logout.status == .seeOther)
            #expect(logout.location == "/admin/login?bye=1")
            #expect(try await browser.get("/admin").status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM sessions") == 0)

            // Signed out, a page of the admin area sends the person to sign in and then back to it.
            let deep = try await browser.get("/admin/rounds/new")
            #expect(deep.location == "/admin/login?next=%2Fadmin%2Frounds%2Fnew")
            #expect(try await browser.get(try #require(deep.location)).text.contains("name=\"next\" value=\"/admin/rounds/new\""))
            let back = try await browser.post(
                "/admin/login",
                form: [("username", "zhang.wei"), ("password", "correct horse battery"), ("next", "/admin/rounds/new")]
            )
            #expect(back.location == "/admin/rounds/new")

            let actions = try await harness.database.query("SELECT action FROM audit_log ORDER BY id").map { try $0.decode(String.self) }
            #expect(actions == ["login", "logout", "login"])
        }
    }

    @Test func wrongPasswordsAreRefusedAuditedAndThrottled() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("li.na", password: "the right password")
            var browser = Browser(client)
            for _ in 0..<5 {
                let refused = try await browser.post("/admin/login", form: [("username", "li.na"), ("password", "wrong password!")])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("用户名或密码不正确"))
                #expect(refused.text.contains("value=\"li.na\""))
            }
            // The sixth try is refused even with the right password.
            let locked = try await browser.post("/admin/login", form: [("username", "li.na"), ("password", "the right password")])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.text.contains("登录失败次数过多"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'login.failed' AND actor_name = 'li.na'") == 5)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'login.throttled'") == 1)
            // Another account from the same address is not locked by li.na's failures.
            try await harness.createUser("wang.fang", password: "another good one")
            let other = try await browser.post("/admin/login", form: [("username", "wang.fang"), ("password", "another good one")])
            #expect(other.status == .seeOther)
        }
    }

    @Test func unknownUsersGetTheSameAnswerAsWrongPasswords() async throws {
        try await TestApp.run { client, harness in
            var browser = Browser(client)
            let refused = try await browser.post("/admin/login", form: [("username", "nobody"), ("password", "whatever it is")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("用户名或密码不正确"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'login.failed' AND actor_name = 'nobody'") == 1)
        }
    }

    @Test func postsWithoutTheRightCSRFTokenAreRejected() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chen.jie", password: "a fine password")
            var browser = Browser(client)
            _ = try await browser.get("/admin/login")
            let missing = try await browser.post("/admin/login", form: [("username", "chen.jie"), ("password", "a fine password")], csrf: .some(nil))
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("页面已过期"))
            let forged = try await browser.post(
                "/admin/login",
                form: [("username", "chen.jie"), ("password", "a fine password")],
                csrf: .some(String(repeating: "a", count: 64))
            )
            #expect(forged.status == .forbidden)
            // A request with no cookie at all (another site's form) is refused too.
            var stranger = Browser(client)
            let crossSite = try await stranger.post(
                "/admin/login",
                form: [("username", "chen.jie"), ("password", "a fine password")],
                csrf: .some(browser.csrfToken)
            )
            #expect(crossSite.status == .forbidden)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'login'") == 0)

            let accepted = try await browser.post("/admin/login", form: [("username", "chen.jie"), ("password", "a fine password")])
            #expect(accepted.status == .seeOther)
        }
    }

    /// The token is bound to the session: planted cookies, other sessions' tokens and tokens
    /// from before sign-in are refused, and signing in and out replaces it.
    @Test func theCSRFTokenIsBoundToTheSession() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.createUser("other", password: "another admin's password")
            let names = Browser.cookieNames
            var admin = Browser(client)
            let beforeSignIn = try await admin.currentCSRFToken()
            // The token is not the cookie's value: knowing a cookie is not knowing its token.
            #expect(beforeSignIn != admin.cookies[names.csrf])
            _ = try await admin.signIn("chief", "the chief's password")
            let signedIn = try await admin.currentCSRFToken()
            #expect(signedIn != beforeSignIn)
            func tokens() async throws -> Int { try await harness.count("SELECT count(*)::int FROM api_tokens") }
            let form = [("name", "同步"), ("scope", "read")]

            // A cookie planted from a sibling host, with the same value in the field.
            let planted = String(repeating: "f", count: 64)
            var attacked = admin
            attacked.cookies[names.csrf] = planted
            #expect(try await attacked.post("/admin/tokens", form: form, csrf: .some(planted)).status == .forbidden)
            // The token of the page before signing in, and another administrator's token.
            #expect(try await admin.post("/admin/tokens", form: form, csrf: .some(beforeSignIn)).status == .forbidden)
            var other = Browser(client)
            _ = try await other.signIn("other", "another admin's password")
            let othersToken = try await other.currentCSRFToken()
            #expect(othersToken != signedIn)
            #expect(try await admin.post("/admin/tokens", form: form, csrf: .some(othersToken)).status == .forbidden)
            #expect(try await tokens() == 0)
            // The session's own token works.
            #expect(try await admin.post("/admin/tokens", form: form, csrf: .some(signedIn)).status != .forbidden)
            #expect(try await tokens() == 1)

            // Signing out replaces it: the signed-in token no longer passes.
            _ = try await admin.post("/admin/logout", form: [])
            let afterSignOut = try await admin.currentCSRFToken()
            #expect(afterSignOut != signedIn)
            let stale = try await admin.post(
                "/admin/login",
                form: [("username", "chief"), ("password", "the chief's password")],
                csrf: .some(signedIn)
            )
            #expect(stale.status == .forbidden)
        }
    }

    @Test func aSessionIsSeenByASecondInstanceOnTheSameDatabase() async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        let cookies = CookieBox()
        try await TestApp.run(database: url) { client, harness in
            try await harness.createUser("zhao.min", password: "shared sessions!")
            var browser = Browser(client)
            let login = try await browser.post("/admin/login", form: [("username", "zhao.min"), ("password", "shared sessions!")])
            #expect(login.status == .seeOther)
            cookies.value = browser.cookies
        }
        try await TestApp.run(database: url) { client, _ in
            var browser = Browser(client)
            browser.cookies = cookies.value
            let home = try await browser.get("/admin")
            #expect(home.status == .ok)
            #expect(home.text.contains("zhao.min"))
        }
        await TestDatabaseServer.shared.drop(url)
    }

    @Test func changingThePasswordEndsOtherSessions() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("sun.li", password: "first password 1")
            var laptop = Browser(client)
            var phone = Browser(client)
            for index in 0..<2 {
                let response =
                    index == 0
                    ? try await laptop.post("/admin/login", form: [("username", "sun.li"), ("password", "first password 1")])
                    : try await phone.post("/admin/login", form: [("username", "sun.li"), ("password", "first password 1")])
                #expect(response.status == .seeOther)
            }
            let problems = try await laptop.post("/admin/password", form: [("current", "not it"), ("new", "short"), ("confirm", "other")])
            #expect(problems.status == .unprocessableContent)
            #expect(problems.text.contains("当前密码不正确"))
            #expect(problems.text.contains("至少需要 10 个字符"))
            #expect(problems.text.contains("两次输入的新密码不一致"))

            let changed = try await laptop.post(
                "/admin/password",
                form: [("current", "first password 1"), ("new", "second password 2"), ("confirm", "second password 2")]
            )
            #expect(changed.status == .ok)
            #expect(changed.text.contains("密码已修改"))
            #expect(try await laptop.get("/admin").status == .ok)
            #expect(try await phone.get("/admin").status == .seeOther)

            _ = try await laptop.post("/admin/logout", form: [])
            let old = try await laptop.post("/admin/login", form: [("username", "sun.li"), ("password", "first password 1")])
            #expect(old.status == .unprocessableContent)
            let new = try await laptop.post("/admin/login", form: [("username", "sun.li"), ("password", "second password 2")])
            #expect(new.status == .seeOther)
        }
    }

    @Test func redirectsAfterLoginStayInsideTheAdminArea() {
        #expect(AuthController.safeNext("/admin/forms/member") == "/admin/forms/member")
        #expect(AuthController.safeNext("https://evil.example/") == "/admin")
        #expect(AuthController.safeNext("//evil.example/admin") == "/admin")
        #expect(AuthController.safeNext("/administrator\\evil") == "/admin")
        #expect(AuthController.safeNext(nil) == "/admin")
    }
}

/// Carries cookies from one test server to the next.
final class CookieBox: @unchecked Sendable {
    var value: [String: String] = [:]
}
