import Foundation
import Logging
import Testing

@testable import KaopingServer

@Suite("Demo office", .timeLimit(.minutes(2)))
struct DemoTests {
    @Test func theDemoFillsAnEmptyDatabaseOnce() async throws {
        try await TestApp.run { _, harness in
            let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
            let demo = DemoData(
                database: harness.database,
                catalog: catalog,
                tokens: InvitationTokens(secret: TestApp.invitationSecret),
                hasher: TestApp.hasher
            )
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let summary = try #require(try await demo.seedIfEmpty(publicBaseURL: "http://kaoping.test", logger: logger))
            #expect(try await harness.count("SELECT count(*)::int FROM branches") == 12)
            let members = try await harness.count("SELECT count(*)::int FROM members")
            #expect((108...192).contains(members))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'open' AND closes_at > now() + interval '6 days'") == 1)
            let answered = try await harness.count("SELECT count(*)::int FROM responses") + harness.count("SELECT count(*)::int FROM ballot_box")
            #expect(answered > 150)
            // Never more member answers than members: the vote check holds.
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM round_branches rb WHERE (SELECT count(*) FROM responses r WHERE r.branch_id = rb.branch_id AND r.rater_group = 'members') > rb.eligible_members"
                ) == 0
            )
            #expect(summary.memberLink.hasPrefix("http://kaoping.test/s/"))
            #expect(summary.publicLink.hasPrefix("http://kaoping.test/p/"))
            #expect(
                try await TestApp.hasher.verify(
                    summary.adminPassword,
                    against: try await UserRepository(database: harness.database).find(username: "admin")!.passwordHash
                )
            )
            #expect(try await demo.seedIfEmpty(publicBaseURL: "http://kaoping.test", logger: logger) == nil)
        }
    }
}
