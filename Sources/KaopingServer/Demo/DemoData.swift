import Foundation
import KaopingForms
import Logging
import PostgresNIO

/// A believable office to try Kaoping on: `kaoping serve --demo` on an empty database.
public struct DemoData: Sendable {
    public struct Summary: Sendable {
        public let adminPassword: String
        public let evaluatorPassword: String
        public let roundID: UUID
        public let memberLink: String
        public let publicLink: String
    }

    let database: Database
    let catalog: FormCatalog
    let tokens: InvitationTokens
    let hasher: PasswordHasher

    public init(database: Database, catalog: FormCatalog, tokens: InvitationTokens, hasher: PasswordHasher) {
        self.database = database
        self.catalog = catalog
        self.tokens = tokens
        self.hasher = hasher
    }

    static let branchNames = [
        "办公室", "人事处", "财务处", "政策法规处", "信息中心", "机关服务中心",
        "综合规划处", "行政审批处", "督查室", "宣传处", "纪检监察室", "离退休干部处",
    ]
    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
    static let givenNames = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强",
        "晓东", "海燕", "春梅",
    ]

    /// Creates the demo office unless the database already has branches; `nil` when it did.
    public func seedIfEmpty(publicBaseURL: String, logger: Logger) async throws -> Summary? {
        guard try await database.query("SELECT count(*)::int FROM branches").first!.decode(Int.self) == 0 else { return nil }
        var random = SystemRandomNumberGenerator()

        // The organisation: 12 branches under the office's party committee, about 150 members.
        let organisation = OrganisationCSV.branches(
            Array(
                (["支部编码,支部名称,上级组织,支部书记"]
                    + Self.branchNames.enumerated().map { index, name in
                        "d\(String(format: "%02d", index + 1)),\(name)党支部,机关党委,\(Self.name(index * 7, &random))"
                    }).joined(separator: "\n").utf8
            )
        )
        let organisationRepository = OrganisationRepository(database: database)
        _ = try await organisationRepository.importBranches(organisation.rows, logger: logger)
        var memberLines = ["工号,姓名,支部编码,手机"]
        var staff = 2_026_001
        for branch in 1...Self.branchNames.count {
            for _ in 0..<Int.random(in: 9...16, using: &random) {
                memberLines.append("\(staff),\(Self.name(staff, &random)),d\(String(format: "%02d", branch)),139\(String(format: "%08d", staff))")
                staff += 1
            }
        }
        let members = OrganisationCSV.members(Array(memberLines.joined(separator: "\n").utf8), knownBranches: Set(organisation.rows.map(\.code)))
        _ = try await organisationRepository.importMembers(members.rows, logger: logger)

        // Accounts: an administrator and an organisation evaluator.
        let users = UserRepository(database: database)
        let adminPassword = AccountRules.generatePassword()
        let evaluatorPassword = AccountRules.generatePassword()
        _ = try await users.create(
            username: "admin",
            displayName: "机关党委管理员",
            role: .admin,
            branchCode: nil,
            passwordHash: try await hasher.hash(adminPassword)
        )
        _ = try await users.create(
            username: "pingshen",
            displayName: "考评组",
            role: .evaluator,
            branchCode: nil,
            passwordHash: try await hasher.hash(evaluatorPassword)
        )

        // An open round closing in seven days, with invitations for every member.
        let audit = AuditLog(database: database)
        let rounds = RoundRepository(database: database, forms: catalog, audit: audit)
        let actor = AuditActor(userID: nil, name: "demo")
        let round = try await rounds.create(
            RoundSpec(
                title: "\(Calendar.current.component(.year, from: .now)) 年度党支部工作考评（演示）",
                year: Calendar.current.component(.year, from: .now),
                closesAt: .now + 7 * 24 * 3600,
                configuration: .init(topGradeQuota: 1.0 / 3.0)
            ),
            actor: actor,
            logger: logger
        )
        // Created as a draft and opened here: a round scheduled to open now could be opened first
        // by the running server's scheduler, and this open would then be refused.
        try await rounds.open(round, actor: actor, logger: logger)
        let invitations = InvitationRepository(database: database, tokens: tokens)
        _ = try await invitations.issue(roundID: round, logger: logger)
        _ = try await SheetRepository(database: database).assign(roundID: round, username: "pingshen", branchCodes: [])

        // Answers: each branch has its own character; most members and some of the public answer.
        let responses = ResponseRepository(database: database)
        let links = try await invitations.links(roundID: round)
        var quality: [String: Double] = [:]
        for code in organisation.rows.map(\.code) { quality[code] = Double.random(in: 0.45...0.95, using: &random) }
        var firstUnused: String?
        for link in links {
            guard Double.random(in: 0...1, using: &random) < 0.8 else {
                if firstUnused == nil { firstUnused = link.token }
                continue
            }
            let target = try await invitations.resolve(token: link.token)!
            let respondent = try await responses.target(roundID: round, group: .members, branchID: target.branchID)!
            let form = try await FormRepository(database: database).definition(id: respondent.formVersionID)!
            let answers = Self.answers(form, quality: quality[link.branchCode]!, &random)
            let record = SubmissionRecord(
                target: respondent,
                submissionKey: RespondentController.newSubmissionKey(),
                answers: answers,
                score: form.score(answers),
                form: form
            )
            _ = try await responses.storeBallot(record, invitationToken: link.token, logger: logger)
        }
        let codes = try await database.query(
            "SELECT b.code, rb.public_code, rb.branch_id FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(round)"
        )
        .map { try $0.decode((String, String, UUID).self) }
        for (code, _, branchID) in codes {
            let respondent = try await responses.target(roundID: round, group: .public, branchID: branchID)!
            let form = try await FormRepository(database: database).definition(id: respondent.formVersionID)!
            for _ in 0..<Int.random(in: 8...20, using: &random) {
                let answers = Self.answers(form, quality: quality[code]!, &random)
                let record = SubmissionRecord(
                    target: respondent,
                    submissionKey: RespondentController.newSubmissionKey(),
                    answers: answers,
                    score: form.score(answers),
                    form: form
                )
                _ = try await responses.storePublicBallot(record, logger: logger)
            }
        }
        _ = try await BallotBox(database: database).mixFullRounds(logger: logger)
        return Summary(
            adminPassword: adminPassword,
            evaluatorPassword: evaluatorPassword,
            roundID: round,
            memberLink: SiteURL.invitation(token: firstUnused ?? links[0].token).absolute(base: publicBaseURL),
            publicLink: SiteURL.publicLink(code: codes[0].1).absolute(base: publicBaseURL)
        )
    }

    static func name(_ seed: Int, _ random: inout SystemRandomNumberGenerator) -> String {
        String(surnames[Int.random(in: 0..<surnames.count, using: &random)]) + givenNames[Int.random(in: 0..<givenNames.count, using: &random)]
    }

    /// Answers that lean towards the branch's quality, with the odd "don't know" and comment.
    static func answers(_ form: FormDefinition, quality: Double, _ random: inout SystemRandomNumberGenerator) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        for item in form.items where item.type.hasOptions {
            let scored = item.options.filter { $0.points != nil }.sorted { ($0.points ?? 0) > ($1.points ?? 0) }
            let unscored = item.options.filter { $0.points == nil }
            if let unknown = unscored.first, Double.random(in: 0...1, using: &random) < 0.06 {
                answers[item.key] = .option(unknown.key)
                continue
            }
            let noise = Double.random(in: -0.35...0.35, using: &random)
            let position = min(max((1 - quality) * Double(scored.count) + noise * Double(scored.count) / 2, 0), Double(scored.count - 1))
            answers[item.key] = .option(scored[Int(position.rounded())].key)
        }
        let comments = ["学习和业务结合得比较紧密", "希望多开展联系群众的活动", "支部活动形式可以更灵活", "党员带头作用明显", "办事效率有提高"]
        for item in form.items where item.type == .longText && Double.random(in: 0...1, using: &random) < 0.3 {
            answers[item.key] = .text(comments[Int.random(in: 0..<comments.count, using: &random)])
        }
        return answers
    }
}
