import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// Every route the server registers, called as every identity in `Identity`, must answer as
/// `AccessPolicy.table` says; and no GET of the admin area may change what is stored.
@Suite struct AccessPolicyTests {
    @Test func everyRouteAnswersWhomItsPolicyNames() async throws {
        try await TestApp.run { client, harness in
            let world = try await World.build(client, harness)
            let routes = harness.routes.routes
            let keys = Set(routes.map(\.description))

            // A route without a policy, or a policy for a route that is gone, fails first.
            let unlisted = keys.subtracting(AccessPolicy.table.keys).sorted()
            #expect(unlisted.isEmpty, "routes without a policy in AccessPolicy.table: \(unlisted.joined(separator: ", "))")
            let stale = Set(AccessPolicy.table.keys).subtracting(keys).sorted()
            #expect(stale.isEmpty, "policies for routes the server no longer registers: \(stale.joined(separator: ", "))")

            // GETs first (each checked to write nothing), then the posts; signing out last of
            // all, since it ends the sessions the other requests need.
            let ordered =
                routes.filter { $0.method == .get }
                + routes.filter { $0.method != .get && $0.description != "POST /admin/logout" }
                + routes.filter { $0.description == "POST /admin/logout" }
            var browsers = world.browsers
            var observed: [String: [Identity: Reply]] = [:]
            var writes: [String] = []
            let tables = try await StoredTables(harness.database)
            for route in ordered where AccessPolicy.table[route.description] != nil {
                var replies: [Identity: Reply] = [:]
                for identity in Identity.allCases {
                    let path = world.path(route, as: identity)
                    // Watched: the admin area's GETs as the signed-in people the policy lets in (one
                    // let in against the policy is reported below anyway).
                    let watched =
                        route.method == .get && path.hasPrefix("/admin") && AccessPolicy.signedIn.contains(identity)
                        && AccessPolicy.table[route.description]!.contains(identity)
                    let before = watched ? try await tables.digests() : [:]
                    let reply = try await Self.send(route, path: path, as: identity, world: world, browser: &browsers[identity]!)
                    replies[identity] = reply
                    if watched && Self.admits(reply) == true {
                        let changed = try await tables.changed(since: before)
                        if !changed.isEmpty { writes.append("\(route) as \(identity) (\(path)) changed \(changed.joined(separator: ", "))") }
                    }
                }
                observed[route.description] = replies
                // KAOPING_POLICY_DUMP=1 prints every answer, to see the whole walk.
                if ProcessInfo.processInfo.environment["KAOPING_POLICY_DUMP"] != nil {
                    print("POLICY \(route): " + Identity.allCases.map { "\($0.rawValue)=\(Self.describe(replies[$0]!))" }.joined(separator: " "))
                }
            }
            #expect(writes.isEmpty, "GETs of the admin area that wrote:\n\(writes.joined(separator: "\n"))")

            // Compare with the policy.
            var mismatches: [String] = []
            var failures: [String] = []
            var allowedSomewhere: Set<Identity> = []
            var refusedSomewhere: Set<Identity> = []
            for (key, replies) in observed.sorted(by: { $0.key < $1.key }) {
                let expected = AccessPolicy.table[key]!
                // A 404 is a refusal when someone else got past the checks on the same route:
                // the thing exists, it is just not shown to this identity.
                let someoneAdmitted = replies.values.contains { Self.admits($0) == true }
                for identity in Identity.allCases {
                    let reply = replies[identity]!
                    let allowed = Self.admits(reply) ?? !someoneAdmitted
                    if allowed { allowedSomewhere.insert(identity) } else { refusedSomewhere.insert(identity) }
                    if reply.status.code >= 500 { failures.append("\(key) as \(identity): \(reply.status.code)") }
                    if allowed != expected.contains(identity) {
                        mismatches.append(
                            "\(key) as \(identity): \(allowed ? "allowed" : "refused") (\(Self.describe(reply))), the policy says \(expected.contains(identity) ? "allowed" : "refused")"
                        )
                    }
                }
            }
            #expect(failures.isEmpty, "server errors:\n\(failures.joined(separator: "\n"))")
            #expect(mismatches.isEmpty, "answers that differ from AccessPolicy.table:\n\(mismatches.joined(separator: "\n"))")
            // Every identity was set up well enough to be let in somewhere and kept out somewhere.
            #expect(allowedSomewhere == Set(Identity.allCases), "never allowed: \(Set(Identity.allCases).subtracting(allowedSomewhere).sorted())")
            #expect(refusedSomewhere == Set(Identity.allCases), "never refused: \(Set(Identity.allCases).subtracting(refusedSomewhere).sorted())")

            // Files no route registers: the static files are everyone's.
            var stranger = Browser(client)
            for path in AccessPolicy.unroutedPublicPaths {
                #expect(try await stranger.get(path).status == .ok, "\(path)")
            }
        }
    }

    /// Whether an answer let the identity through: false for 401, 403 and being sent to sign in,
    /// nil for a 404 (decided by comparison with the others), true otherwise.
    static func admits(_ reply: Reply) -> Bool? {
        switch reply.status.code {
        case 401, 403: return false
        case 404: return nil
        case 300..<400:
            // Signing out also ends at the sign-in page, saying goodbye: that is no refusal.
            guard let location = reply.headers[.location] else { return true }
            let path = location.split(separator: "?", maxSplits: 1).first.map(String.init) ?? location
            return !(path == SiteURL.login.path && !location.contains("bye="))
        default: return true
        }
    }

    static func describe(_ reply: Reply) -> String {
        let location = reply.headers[.location].map { " to \($0)" } ?? ""
        return "\(reply.status.code)\(location)"
    }

    /// One request of `route` as `identity`: a browser's GET, or a form post with the token of
    /// that browser's session and nothing else; API requests carry the identity's bearer token
    /// and, when posting, an empty JSON object.
    static func send(_ route: RouteCatalog.Route, path: String, as identity: Identity, world: World, browser: inout Browser) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let token = world.apiTokens[identity] { headers[.authorization] = "Bearer \(token)" }
        if route.method == .get { return try await browser.get(path, headers: headers) }
        if path.hasPrefix(SiteURL.apiPrefix) {
            headers[.contentType] = "application/json"
            return try await browser.send(path, method: route.method, headers: headers, body: ByteBuffer(string: "{}"))
        }
        let token = world.csrfTokens[identity]!
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await browser.send(
            path,
            method: route.method,
            headers: headers,
            body: ByteBuffer(string: "\(CSRFMiddleware.fieldName)=\(token)")
        )
    }
}

/// Digests of every stored table, to see whether a request changed any.
struct StoredTables {
    let database: Database
    let query: String

    /// Every table counts, `sessions`, `login_attempts` and `audit_log` too: reading a page signs
    /// no one in or out, and a session's expiry does not slide with use, so a GET by an active,
    /// signed-in person has no reason to touch any of them. (A GET by a disabled account does end
    /// its session, which the walk never makes.) Caches kept in tables would count as writes.
    init(_ database: Database) async throws {
        self.database = database
        let names = try await database.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).map { try $0.decode(String.self) }
        query = names.map { "SELECT '\($0)', md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM \"\($0)\" t" }
            .joined(separator: " UNION ALL ")
    }

    func digests() async throws -> [String: String] {
        var digests: [String: String] = [:]
        for row in try await database.query(PostgresQuery(unsafeSQL: query)) {
            let (name, digest) = try row.decode((String, String).self)
            digests[name] = digest
        }
        return digests
    }

    func changed(since before: [String: String]) async throws -> [String] {
        let after = try await digests()
        return after.keys.filter { after[$0] != before[$0] }.sorted()
    }
}

/// Two branches with members, units and a secretary each; an open round with invitations, a
/// public link, visit codes and an evaluator per branch; a closed round of the year before with
/// performance results; a draft round to open and close; an uploaded import; API tokens; and a
/// spare branch, unit, member, account and token for the posts that change things.
struct World {
    let open: UUID
    let closed: UUID
    let draft: UUID
    let memberToken: String
    let publicCode: String
    let visitCode: String
    let posterCode: String
    let upload: UUID
    let assessment: UUID
    let spareAccount: UUID
    let spareToken: UUID
    let apiTokens: [Identity: String]
    let browsers: [Identity: Browser]
    /// Each browser's CSRF token, which holds for its session (or, signed out, its cookie).
    let csrfTokens: [Identity: String]
    /// Well-formed credentials that open nothing, for those who do not hold the real ones.
    let wrongToken: String
    let wrongVisitCode: String
    let wrongPublicCode = "zzzzzzzzzz"
    /// The closed round's publicity page, and an objection filed through it.
    let publicityKey: String
    let objectionStatusKey: String
    let objection: UUID
    let wrongPublicityKey = "0123456789abcdef0123456789abcdef"
    /// Members' appraisals of both branches: one voting (with a b01 member's link), one whose
    /// vote has closed (its branch pages), and a draft to open, close and hand out.
    let appraisalOpen: UUID
    let appraisalClosed: UUID
    let appraisalDraft: UUID
    let appraisalToken: String

    static func build(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> World {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let logger = quiet
        let database = harness.database
        try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '服务窗口党支部')")
        try await database.query(
            "INSERT INTO units (code, name, branch_id, headcount) SELECT v.code, v.name, b.id, v.headcount FROM (VALUES ('u01', '办公室', 'b01', 12), ('u02', '窗口科', 'b02', 7)) v(code, name, branch, headcount) JOIN branches b ON b.code = v.branch"
        )
        try await database.query(
            "INSERT INTO members (staff_number, name, branch_id) SELECT v.staff, v.name, b.id FROM (VALUES ('s0101', '党员甲', 'b01'), ('s0102', '党员乙', 'b01'), ('s0201', '党员丙', 'b02')) v(staff, name, branch) JOIN branches b ON b.code = v.branch"
        )
        let b01 = try await database.query("SELECT id FROM branches WHERE code = 'b01'").first!.decode(UUID.self)
        let b02 = try await database.query("SELECT id FROM branches WHERE code = 'b02'").first!.decode(UUID.self)

        let rounds = try harness.roundRepository()
        let both = ["b01", "b02"]
        let closed = try await rounds.create(
            RoundSpec(title: "2025 年度考评", year: 2025, closesAt: .now + 86400, branches: both),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(closed, actor: .commandLine, logger: logger)
        // Five members and five of the public answered for each branch, so that every figure
        // of the results (the diagnostic too) is there to show.
        try await database.query(
            """
            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, satisfied)
            SELECT \(closed), b.id, g.rater_group, g.form_version_id, current_date, 70 + n + length(b.code),
              CASE WHEN g.rater_group = 'members' THEN ARRAY[60.0 + n]::float8[] ELSE '{}' END, CASE WHEN g.rater_group = 'public' THEN n % 2 = 0 END
            FROM branches b, round_groups g, generate_series(1, 5) n
            WHERE g.round_id = \(closed) AND g.rater_group IN ('members', 'public')
            """
        )
        _ = try await rounds.close(closed, actor: .commandLine, logger: logger)
        let open = try await rounds.create(
            RoundSpec(title: "2026 年度考评", year: 2026, closesAt: .now + 7 * 86400, branches: both),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(open, actor: .commandLine, logger: logger)
        let draft = try await rounds.create(
            RoundSpec(title: "2027 年度考评", year: 2027, closesAt: .now + 30 * 86400, branches: both),
            actor: .commandLine,
            logger: logger
        )
        let performance = #"{"year": 2025, "source": "绩效办", "results": [{"unit": "u01", "score": 88.5}, {"unit": "u02", "score": 71}]}"#
        _ = try await harness.services.imports.applyPosted(Data(performance.utf8), actor: .commandLine, logger: logger)

        // Handouts of the open round: members' invitations, b01's public link, b02's visit codes.
        let handouts = TestApp.handouts(database)
        _ = try await handouts.issueInvitations(round: open, actor: .commandLine, logger: logger)
        let invitations = try await harness.services.invitations.links(roundID: open, branchCode: "b01")
        let memberToken = try #require(invitations.first?.token)
        let publicCode = String(try await harness.publicLink(round: open, branch: b01).dropFirst(3))
        _ = try await handouts.setPublicAccess(round: open, branchCodes: ["b02"], access: .codes, actor: .commandLine, logger: logger)
        let visits = try await handouts.issueVisitCodes(round: open, branchCodes: ["b02"], count: 2, actor: .commandLine, logger: logger)

        // Accounts: each signs in through the login form, as a person would.
        let users = UserRepository(database: database)
        let password = "a password for the policy walk"
        let hash = try await TestApp.hasher.hash(password)
        let accounts: [(Identity, String, UserRole, String?)] = [
            (.administrator, "policy.admin", .admin, nil),
            (.secretaryOfBranch, "policy.secretary01", .viewer, "b01"),
            (.secretaryOfOtherBranch, "policy.secretary02", .viewer, "b02"),
            (.assignedEvaluator, "policy.evaluator01", .evaluator, nil),
            (.otherEvaluator, "policy.evaluator02", .evaluator, nil),
        ]
        var ids: [Identity: UUID] = [:]
        for (identity, name, role, branch) in accounts {
            ids[identity] = try await users.create(username: name, displayName: "", role: role, branchCode: branch, passwordHash: hash).id
        }
        let spare = try await users.create(username: "policy.spare", displayName: "", role: .evaluator, branchCode: nil, passwordHash: hash)
        try await database.query(
            """
            INSERT INTO evaluator_assignments (round_id, branch_id, user_id)
            VALUES (\(open), \(b01), \(ids[.assignedEvaluator]!)), (\(open), \(b02), \(ids[.otherEvaluator]!))
            """
        )

        // Something to change that nobody else relies on.
        try await database.query("INSERT INTO branches (code, name) VALUES ('b03', '备用党支部')")
        try await database.query(
            "INSERT INTO units (code, name, branch_id, headcount) SELECT 'u03', '备用科', id, 3 FROM branches WHERE code = 'b03'"
        )
        try await database.query("INSERT INTO members (staff_number, name, branch_id) SELECT 's0301', '党员丁', id FROM branches WHERE code = 'b03'")
        let assessment = try await database.query(
            "INSERT INTO branch_assessments (branch_id, first_year, last_year, level, judgement) SELECT id, 2024, 2025, 'good', '组织生活规范' FROM branches WHERE code = 'b03' RETURNING id"
        ).first!.decode(UUID.self)
        let template = ImportTemplate.of(.branches)
        let upload = try await harness.services.imports.upload(
            OrganisationUpload(kind: .branches, fileName: "branches.csv", content: Array(template.csv.utf8)),
            actor: AuditActor(userID: ids[.administrator], name: "admin"),
            logger: TestApp.logger
        )
        let (_, readToken) = try await harness.issueToken("读取", scope: .read)
        let (_, writeToken) = try await harness.issueToken("写入", scope: .write)
        let (_, appraisalsToken) = try await harness.issueToken("评议", scope: .appraisals)
        let (spareToken, _) = try await harness.issueToken("备用", scope: .read)

        var browsers: [Identity: Browser] = [:]
        var csrfTokens: [Identity: String] = [:]
        for identity in Identity.allCases {
            var browser = Browser(client)
            if let account = accounts.first(where: { $0.0 == identity }) {
                let signedIn = try await browser.post("/admin/login", form: [("username", account.1), ("password", password)])
                try #require(signedIn.status == .seeOther && signedIn.headers[.location] == "/admin", "\(identity) could not sign in")
            } else {
                // A page first, as a person's browser would have, so it has its cookie.
                _ = try await browser.get("/s")
            }
            csrfTokens[identity] = try await browser.currentCSRFToken()
            browsers[identity] = browser
        }
        // The closed round is published for objections; one is filed.
        let publicity = try await harness.services.publicity.publicise(closed, shows: .grades, actor: .commandLine, logger: logger)
        let filed = try await harness.services.objections.file(
            ObjectionDraft(branchCode: "b01", body: "异议", submissionKey: RespondentController.newSubmissionKey()),
            round: closed,
            filer: nil,
            logger: logger
        )
        let appraisals = harness.services.appraisals
        func appraisal(_ year: Int) async throws -> UUID {
            try await appraisals.create(AppraisalSpec(title: "\(year) 年度民主评议党员", year: year, branches: both), actor: .commandLine, logger: logger)
        }
        let appraisalOpen = try await appraisal(2026)
        try await appraisals.open(appraisalOpen, actor: .commandLine, logger: logger)
        _ = try await appraisals.issueLinks(appraisalOpen, actor: .commandLine, logger: logger)
        let appraisalToken = try #require(try await appraisals.repository.links(appraisalOpen, branchCode: "b01").first?.token)
        let appraisalClosed = try await appraisal(2025)
        try await appraisals.open(appraisalClosed, actor: .commandLine, logger: logger)
        try await appraisals.close(appraisalClosed, actor: .commandLine, logger: logger)
        let appraisalDraft = try await appraisal(2027)
        let tokens = InvitationTokens(secret: TestApp.invitationSecret)
        return World(
            open: open,
            closed: closed,
            draft: draft,
            memberToken: memberToken,
            publicCode: publicCode,
            visitCode: try #require(visits.first?.code),
            posterCode: publicCode,
            upload: upload,
            assessment: assessment,
            spareAccount: spare.id,
            spareToken: spareToken,
            apiTokens: [.readToken: readToken, .writeToken: writeToken, .appraisalsToken: appraisalsToken],
            browsers: browsers,
            csrfTokens: csrfTokens,
            wrongToken: tokens.token(for: UUID()),
            wrongVisitCode: tokens.visitCode(for: UUID()),
            publicityKey: try #require(publicity.key),
            objectionStatusKey: filed.statusKey,
            objection: filed.id,
            appraisalOpen: appraisalOpen,
            appraisalClosed: appraisalClosed,
            appraisalDraft: appraisalDraft,
            appraisalToken: appraisalToken
        )
    }

    /// The path to request for a route as an identity: the route's parameters filled in with
    /// things that exist; the credential in a respondent's path only for its holder.
    func path(_ route: RouteCatalog.Route, as identity: Identity) -> String {
        let template = route.path
        let segments = template.split(separator: "/").map(String.init)
        // Posts that change a branch, member, unit, assessment, account or token change the spare
        // ones; those that open, close, extend or reopen a round change the draft round.
        let changes = route.method != .get
        let roundActions: Set<String> = ["open", "close", "reopen", "extend"]
        let round: UUID
        if template.hasPrefix("/admin/rounds/{id}/"), roundActions.contains(segments.last ?? "") {
            round = draft
        } else if let index = segments.firstIndex(of: "{id}"), index + 1 < segments.count, Self.resultsRoutes.contains(segments[index + 1]) {
            round = closed
        } else {
            round = open
        }
        var filled: [String] = []
        for (index, segment) in segments.enumerated() {
            let previous = index > 0 ? segments[index - 1] : ""
            switch segment {
            case "{token}" where segments.first == "a":
                filled.append(identity == .invitationHolder ? appraisalToken : wrongToken)
            case "{token}":
                filled.append(identity == .invitationHolder ? memberToken : wrongToken)
            case "{id}" where previous == "appraisals":
                let appraisal =
                    ["open", "close", "links"].contains(segments.last ?? "")
                    ? appraisalDraft : segments.contains("branches") ? appraisalClosed : appraisalOpen
                filled.append(appraisal.uuidString.lowercased())
            case "{visit}":
                filled.append(identity == .visitCodeHolder ? visitCode : wrongVisitCode)
            case "{key}" where segments.first == "g":
                filled.append(identity == .publicityReader ? publicityKey : wrongPublicityKey)
            case "{key}" where segments.first == "o":
                filled.append(identity == .publicityReader ? objectionStatusKey : wrongPublicityKey)
            case "{id}" where previous == "objections":
                filled.append(objection.uuidString.lowercased())
            case "{code}" where segments.first == "p":
                filled.append(identity == .publicLinkHolder ? publicCode : wrongPublicCode)
            case "{code}" where previous == "posters":
                filled.append(posterCode)
            case "{code}" where previous == "units":
                filled.append(changes ? "u03" : "u01")
            case "{code}" where previous == "branches" && template.hasPrefix("/admin/org/"):
                filled.append(changes ? "b03" : "b01")
            case "{code}":
                filled.append("b01")
            case "{staff}":
                filled.append(changes ? "s0301" : "s0101")
            case "{id}" where previous == "rounds":
                filled.append(round.uuidString.lowercased())
            case "{id}" where previous == "imports":
                filled.append(upload.uuidString.lowercased())
            case "{id}" where previous == "assessments":
                filled.append(assessment.uuidString.lowercased())
            case "{id}" where previous == "accounts":
                filled.append(spareAccount.uuidString.lowercased())
            case "{id}" where previous == "tokens":
                filled.append(spareToken.uuidString.lowercased())
            case "{round}":
                filled.append(open.uuidString.lowercased())
            case "{branch}":
                filled.append("b01")
            case "{formId}":
                filled.append("member-integration")
            case "{file}":
                filled.append("members.csv")
            default:
                filled.append(segment)
            }
        }
        return "/" + filled.joined(separator: "/")
    }

    /// The pages of a round's results (the segment after `{id}`, in the admin area or the
    /// API): shown for the closed round.
    static let resultsRoutes: Set<String> = [
        "results", "diagnostics", "watch", "integration", "integrated", "results.csv", "results.xlsx", "responses.csv", "sheets.csv",
        "integrated.csv", "integration.csv", "diagnostic", "publicity", "approve", "reopen-publicity", "corrections",
    ]
}
