import Foundation
import Testing

@testable import KaopingServer

/// What an administrator changes on a round's page and the organisation pages leaves one audit
/// entry, by name, written in the change's own transaction: a refused change leaves none, and a
/// change whose entry cannot be written is not made at all.
@Suite("Audit entries", .timeLimit(.minutes(3)))
struct AuditTests {
    @Test func eachChangeOnARoundsPageIsAuditedOnceAndARefusalNotAtAll() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.createUser("zhang", password: "evaluator number one", role: .evaluator)
            let (round, branch) = try await harness.openRound()
            let code = try await harness.database.query("SELECT code FROM branches WHERE id = \(branch)").first!.decode(String.self)
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'a' || g, '党员' || g, \(branch) FROM generate_series(1, 3) g"
            )
            let path = "/admin/rounds/\(round.lowercased)"
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            func entries(_ action: String) async throws -> Int {
                try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = '\(action)' AND actor_name = 'chief'")
            }

            // An evaluator: an unknown account is refused, then one assignment, then one that adds nothing.
            _ = try await admin.post(path + "/evaluators", form: [("username", "nobody"), ("branches", "")])
            #expect(try await entries("round.evaluator_assigned") == 0)
            #expect(try await admin.post(path + "/evaluators", form: [("username", "zhang"), ("branches", "")]).location == path + "?assigned=1")
            #expect(try await admin.post(path + "/evaluators", form: [("username", "zhang"), ("branches", "")]).location == path + "?assigned=0")
            #expect(try await entries("round.evaluator_assigned") == 1)
            let assigned = try await harness.database.query(
                "SELECT details->>'user', details->>'new' FROM audit_log WHERE action = 'round.evaluator_assigned'"
            ).first!.decode((String, String).self)
            #expect(assigned.0 == "zhang" && assigned.1 == "1")

            // Invitations: three members get one each; issuing again makes none and writes nothing.
            #expect(try await admin.post(path + "/invitations", form: []).location == path + "?issued=3")
            #expect(try await admin.post(path + "/invitations", form: []).location == path + "?issued=0")
            #expect(try await entries("round.invitations_issued") == 1)

            // Public access: an unknown branch is refused whole, a known one is set.
            _ = try await admin.post(path + "/public-access", form: [("access", "codes"), ("branches", "zz99")])
            #expect(try await entries("round.public_access_set") == 0)
            #expect(try await admin.post(path + "/public-access", form: [("access", "codes"), ("branches", code)]).location == path + "?accessSet=1")
            #expect(try await entries("round.public_access_set") == 1)

            // Visit codes: a count of 0 is refused; 4 are made, and the entry holds none of them.
            _ = try await admin.post(path + "/visit-codes", form: [("count", "0"), ("branches", "")])
            #expect(try await entries("round.visit_codes_issued") == 0)
            #expect(try await admin.post(path + "/visit-codes", form: [("count", "4"), ("branches", "")]).location == path + "?visitCodes=4")
            #expect(try await entries("round.visit_codes_issued") == 1)
            let made = try await harness.services.visitCodes.codes(roundID: round)
            #expect(made.count == 4)
            let links = try await harness.services.invitations.links(roundID: round)
            #expect(links.count == 3)
            let everything = try await harness.database.query("SELECT coalesce(string_agg(subject || ' ' || details::text, ' '), '') FROM audit_log")
                .first!.decode(String.self)
            for secret in made.map(\.code) + links.map(\.token) { #expect(!everything.contains(secret)) }

            // A later deadline must lie ahead; one in the past is refused and leaves no entry.
            _ = try await admin.post(path + "/extend", form: [("closes", "2020-01-01 10:00")])
            #expect(try await entries("round.extended") == 0)
            #expect(try await admin.post(path + "/extend", form: [("closes", "2099-12-10 18:00")]).location == path)
            #expect(try await entries("round.extended") == 1)
        }
    }

    @Test func aChangeWhoseEntryCannotBeWrittenIsNotMade() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let form = [("code", "b01"), ("name", "办公室党支部"), ("parent", ""), ("secretary", "")]
            // The audit log refuses this one action: were the entry written after the change's
            // commit, the branch would be stored all the same.
            try await harness.database.query(
                """
                CREATE FUNCTION refuse_entry() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'refused for the test'; END $$
                """
            )
            try await harness.database.query(
                """
                CREATE TRIGGER refuse_branch_entry BEFORE INSERT ON audit_log FOR EACH ROW
                WHEN (NEW.action = 'org.branch.added') EXECUTE FUNCTION refuse_entry()
                """
            )
            let failed = try await admin.post("/admin/org/branches", form: form)
            #expect(failed.status == .internalServerError)
            #expect(try await harness.count("SELECT count(*)::int FROM branches WHERE code = 'b01'") == 0)

            try await harness.database.query("DROP TRIGGER refuse_branch_entry ON audit_log")
            #expect(try await admin.post("/admin/org/branches", form: form).location == "/admin/org/branches/b01?saved=1")
            #expect(try await harness.count("SELECT count(*)::int FROM branches WHERE code = 'b01'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'org.branch.added' AND subject = 'b01'") == 1)
            // The same code again is refused on the page, with no second entry.
            #expect(try await admin.post("/admin/org/branches", form: form).status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'org.branch.added'") == 1)
        }
    }

    @Test func anUploadAndAnOwnPasswordChangeAreAuditedOnceAndARefusalNot() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            func entries(_ action: String) async throws -> Int {
                try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = '\(action)' AND actor_name = 'chief'")
            }
            // An upload is kept for its preview: who uploaded what is on record, imported or not.
            let refused = try await admin.upload(kind: "branches", file: [], name: "empty.csv")
            #expect(refused.status == .unprocessableContent)
            #expect(try await entries("org.import.uploaded") == 0)
            let uploaded = try await admin.upload(kind: "branches", file: Array("支部编码,支部名称\nb01,办公室党支部\n".utf8), name: "支部.csv")
            #expect(uploaded.status == .seeOther)
            #expect(try await entries("org.import.uploaded") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'org.import.uploaded' AND subject = '支部.csv'") == 1)

            // One's own password: a wrong current one changes nothing and writes nothing.
            let form = { (current: String) in [("current", current), ("new", "a new long password"), ("confirm", "a new long password")] }
            #expect(try await admin.post("/admin/password", form: form("not my password")).status == .unprocessableContent)
            #expect(try await entries("password.changed") == 0)
            #expect(try await admin.post("/admin/password", form: form("the chief's password")).status == .ok)
            #expect(try await entries("password.changed") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'password.changed' AND subject = 'chief'") == 1)
        }
    }
}
