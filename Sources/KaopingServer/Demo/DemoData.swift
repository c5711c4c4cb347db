// Demo: a believable office for `kaoping serve --demo`, made through the same services.

import Foundation
import KaopingAggregation
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
        /// The secretary (viewer) of the first branch, whose members are appraised this year.
        public let secretaryPassword: String
        public let appraisalID: UUID
        /// A member of the first branch who has not yet voted in the appraisal.
        public let appraisalLink: String
    }

    let services: KaopingServices
    let hasher: PasswordHasher
    var database: Database { services.database }

    public init(services: KaopingServices, hasher: PasswordHasher) {
        self.services = services
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
        let organisationRepository = services.organisation
        _ = try await organisationRepository.importBranches(organisation.rows, logger: logger)
        var memberLines = ["工号,姓名,支部编码,手机"]
        var staff = 2_026_001
        for branch in 1...Self.branchNames.count {
            // The first branch has nine members: its appraisal allows three 优秀.
            for _ in 0..<(branch == 1 ? 9 : Int.random(in: 9...16, using: &random)) {
                memberLines.append("\(staff),\(Self.name(staff, &random)),d\(String(format: "%02d", branch)),139\(String(format: "%08d", staff))")
                staff += 1
            }
        }
        let members = OrganisationCSV.members(Array(memberLines.joined(separator: "\n").utf8), knownBranches: Set(organisation.rows.map(\.code)))
        _ = try await organisationRepository.importMembers(members.rows, logger: logger)

        // Accounts: an administrator and an organisation evaluator.
        let users = services.users
        let adminPassword = AccountRules.generatePassword()
        let evaluatorPassword = AccountRules.generatePassword()
        let admin = try await users.create(
            username: "admin",
            displayName: "机关党委管理员",
            role: .admin,
            branchCode: nil,
            passwordHash: try await hasher.hash(adminPassword)
        )
        let evaluator = try await users.create(
            username: "pingshen",
            displayName: "考评组",
            role: .evaluator,
            branchCode: nil,
            passwordHash: try await hasher.hash(evaluatorPassword)
        )

        // Each branch has its own character, which drifts from year to year; two of them run
        // their party work apart from their business (两张皮), so the diagnostic has something to show.
        let codes = organisation.rows.map(\.code)
        let thisYear = Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year ?? 2026
        let years = [thisYear - 3, thisYear - 2, thisYear - 1, thisYear]
        var quality: [String: [Double]] = [:]
        var business: [String: Double] = [:]
        for (index, code) in codes.enumerated() {
            // The first branch is strong every year, the last weak: the committee's lists have
            // someone on them. The fourth is good at party work and weak in its business (党建悬浮),
            // the ninth the other way round (重业务轻党建).
            let fixed: [Int: (party: Double, business: Double)] = [0: (0.96, 0.9), codes.count - 1: (0.3, 0.5), 3: (0.9, 0.4), 8: (0.55, 0.95)]
            let base = fixed[index]?.party ?? Double.random(in: 0.5...0.92, using: &random)
            let drift = fixed[index] == nil ? Double.random(in: -0.05...0.05, using: &random) : 0
            quality[code] = years.indices.map { min(max(base + drift * Double($0 - years.count + 1), 0.25), 0.97) }
            business[code] = fixed[index]?.business ?? min(max(base + Double.random(in: -0.25...0.25, using: &random), 0.35), 0.97)
        }

        // Business units and three years of performance results, as the performance office exports them.
        var unitLines = ["单位编码,单位名称,支部编码,人数"]
        for (index, code) in codes.enumerated() {
            let name = Self.branchNames[index]
            // 财务处 is a joint branch (联合支部) covering three sections.
            let sections = index == 2 ? ["综合科", "预算科", "会计核算科"] : index % 3 == 0 ? ["一科", "二科"] : [""]
            for (number, section) in sections.enumerated() {
                unitLines.append("u\(code.dropFirst())\(number + 1),\(name)\(section),\(code),\(Int.random(in: 6...28, using: &random))")
            }
        }
        let units = OrganisationCSV.units(Array(unitLines.joined(separator: "\n").utf8), knownBranches: Set(codes))
        let performance = services.performance
        _ = try await performance.importUnits(units.rows, logger: logger)
        let actor = AuditActor(userID: nil, name: "demo")
        for (index, year) in years.enumerated() {
            let rows = units.rows.map { unit -> PerformanceRow in
                let score = min(52 + 40 * business[unit.branchCode]! + Double(index) / 2 + Double.random(in: -4...4, using: &random), 100)
                let rounded = (score * 10).rounded() / 10
                let grade = rounded >= 90 ? "优秀" : rounded >= 80 ? "良好" : rounded >= 60 ? "合格" : "基本合格"
                let indicators = ["重点任务完成率": "\(Int(min(70 + 30 * business[unit.branchCode]!, 100)))%"]
                return PerformanceRow(line: 0, unitCode: unit.code, score: rounded, grade: grade, indicators: indicators)
            }
            _ = try await performance.importResults(
                year: year,
                rows,
                source: "\(year) 年度机关绩效考评",
                fileName: "绩效考评结果-\(year).xlsx",
                actor: actor,
                logger: logger
            )
        }

        // Three earlier years, evaluated and closed, then this year's round, open for seven days.
        let rounds = services.rounds
        let handouts = services.handouts
        var openRound: (id: UUID, firstUnused: String?, links: [InvitationLink], publicCode: String)?
        // Earlier years answered the members' form as it then was (version 1); a round takes the
        // form version frozen last, so version 1 is frozen before them and the current version
        // made the last again before this year's round.
        let memberForm = services.catalog.form(RoundConfiguration.defaultGroups[.members]?.form ?? "")
        let earlierMemberForm = memberForm.flatMap(Self.firstMemberForm)
        if let earlierMemberForm { _ = try await services.forms.freeze(earlierMemberForm) }
        for (index, year) in years.enumerated() {
            let current = index == years.count - 1
            if current, earlierMemberForm != nil, let memberForm {
                let id = try await services.forms.freeze(memberForm)
                try await database.query("UPDATE form_versions SET created_at = clock_timestamp() WHERE id = \(id)")
            }
            let closing = current ? Date.now + 7 * 24 * 3600 : Date.now + 3600
            let round = try await rounds.create(
                RoundSpec(
                    title: "\(year) 年度党支部工作考评（演示）",
                    year: year,
                    closesAt: closing,
                    configuration: .init(topGradeQuota: 1.0 / 3.0, integration: IntegrationSettings(partyWeight: 0.2))
                ),
                // An earlier year's round closes now and is dated back to its December below.
                acceptingWarnings: !current,
                actor: actor,
                logger: logger
            )
            // Created as a draft and opened here: a round scheduled to open now could be opened
            // first by the running server's scheduler, and this open would then be refused.
            try await rounds.open(round, actor: actor, logger: logger)
            _ = try await handouts.issueInvitations(round: round, actor: actor, logger: logger)
            _ = try await rounds.assignEvaluator(round: round, username: "pingshen", branchCodes: [], actor: actor, logger: logger)
            let filled = try await fill(
                round: round,
                quality: quality.mapValues { $0[index] },
                evaluator: evaluator.id,
                random: &random,
                logger: logger
            )
            if !current {
                _ = try await rounds.close(round, actor: actor, logger: logger)
                // As if it had run in December of its year.
                try await database.query(
                    """
                    UPDATE rounds SET
                      opened_at = make_timestamptz(\(year)::int, 12, 1, 9, 0, 0, 'Asia/Shanghai'),
                      opens_at = make_timestamptz(\(year)::int, 12, 1, 9, 0, 0, 'Asia/Shanghai'),
                      closes_at = make_timestamptz(\(year)::int, 12, 20, 18, 0, 0, 'Asia/Shanghai'),
                      closed_at = make_timestamptz(\(year)::int, 12, 20, 18, 0, 0, 'Asia/Shanghai')
                    WHERE id = \(round)
                    """
                )
                try await approve(round, year: year, withObjection: index == years.count - 2, actor: actor, logger: logger)
            } else {
                openRound = (round, filled.firstUnused, filled.links, filled.publicCode)
            }
        }

        // The committee's long-term judgement of a few branches.
        let history = services.branchHistory
        let ranked = codes.sorted { quality[$0]!.last! > quality[$1]!.last! }
        let judgements: [(String, BranchHistoryRepository.Level, String)] = [
            (ranked[0], .good, "支部把党建工作融入业务工作，连续几年考评靠前，“三会一课”扎实，党员在重点任务中带头作用明显。"),
            (codes[3], .fairlyGood, "组织生活规范，但党建与业务“两张皮”现象仍然存在，党建活动与处室重点工作结合不够。"),
            (ranked.last!, .fair, "近年组织生活不够经常，党员教育管理有待加强，建议上级党组织加强指导。"),
        ]
        for (code, level, judgement) in judgements {
            _ = try await history.save(
                .init(firstYear: years[0], lastYear: years[years.count - 2], level: level, judgement: judgement),
                id: nil,
                code: code,
                actor: .account(admin),
                logger: logger
            )
        }

        // The secretary of the first branch, and this year's members' appraisal, open for seven days.
        let secretaryPassword = AccountRules.generatePassword()
        _ = try await users.create(
            username: "shuji",
            displayName: "\(Self.branchNames[0])党支部书记",
            role: .viewer,
            branchCode: codes[0],
            passwordHash: try await hasher.hash(secretaryPassword)
        )
        let appraisal = try await appraise(year: thisYear, quality: quality, actor: .account(admin), logger: logger)

        let current = openRound!
        return Summary(
            adminPassword: adminPassword,
            evaluatorPassword: evaluatorPassword,
            roundID: current.id,
            memberLink: SiteURL.invitation(token: current.firstUnused ?? current.links[0].token).absolute(base: publicBaseURL),
            publicLink: SiteURL.publicLink(code: current.publicCode).absolute(base: publicBaseURL),
            secretaryPassword: secretaryPassword,
            appraisalID: appraisal.id,
            appraisalLink: SiteURL.appraisalLink(token: appraisal.unused).absolute(base: publicBaseURL)
        )
    }

    /// This year's members' appraisal: every branch takes part; most members have written their
    /// self-assessment and voted through their links (the same service calls the pages make),
    /// leaving two of the first branch's nine, and a few elsewhere, still to do it.
    private func appraise(year: Int, quality: [String: [Double]], actor: AuditActor, logger: Logger) async throws -> (id: UUID, unused: String) {
        let appraisals = services.appraisals
        let id = try await appraisals.create(
            AppraisalSpec(title: "\(year) 年度民主评议党员", year: year, closesAt: .now + 7 * 86400),
            actor: actor,
            logger: logger
        )
        try await appraisals.open(id, actor: actor, logger: logger)
        _ = try await appraisals.issueLinks(id, actor: actor, logger: logger)
        let round = try await appraisals.repository.round(id)!
        var random = SystemRandomNumberGenerator()
        let links = try await appraisals.repository.links(id)
        let firstBranch = links.first?.branchCode
        var unused: String?
        var skippedInFirst = 0
        // A member's standing, drawn once: the vote on them leans that way.
        var standing: [UUID: Double] = [:]
        let texts = [
            "一年来认真学习党的理论，按时参加组织生活，完成本职工作。不足是理论联系实际不够，今后加强学习。",
            "能够发挥党员先锋模范作用，在重点任务中主动担当。对自己要求还不够严格，今后改进。",
            "按时交纳党费，参加“三会一课”，工作中有时满足于完成任务，创新不够。",
        ]
        for link in links {
            guard let voter = try await appraisals.repository.voter(token: link.token) else { continue }
            if link.branchCode == firstBranch && skippedInFirst < 2 && !link.isRepresentative {
                skippedInFirst += 1
                if unused == nil { unused = link.token }
                continue
            }
            // One in eight elsewhere has not got to it yet.
            if link.branchCode != firstBranch && Int.random(in: 0..<8, using: &random) == 0 { continue }
            _ = try await appraisals.writeSelfAssessment(texts.randomElement(using: &random)!, voter: voter)
            let roster = try await appraisals.roster(for: voter, round: round)
            let branchQuality = quality[link.branchCode]?.last ?? 0.7
            var choices: [UUID: String] = [:]
            for subject in roster {
                let lean =
                    standing[subject.memberID]
                    ?? {
                        let drawn = min(max(branchQuality + Double.random(in: -0.3...0.25, using: &random), 0), 1)
                        standing[subject.memberID] = drawn
                        return drawn
                    }()
                let draw = lean + Double.random(in: -0.2...0.2, using: &random)
                choices[subject.memberID] =
                    Int.random(in: 0..<12, using: &random) == 0
                    ? AppraisalSettings.abstain
                    : draw > 0.8 ? "excellent" : draw > 0.35 ? "competent" : draw > 0.15 ? "basic" : "incompetent"
            }
            _ = try await appraisals.vote(choices, voter: voter, round: round, submissionKey: Hex.random(bytes: 16))
        }
        return (id, unused ?? links[0].token)
    }

    /// A round's answers: most members answer through their links, some of the public through
    /// the branch's poster, and the evaluator fills every branch's score sheet; all leaning
    /// towards each branch's quality that year.
    /// Takes an earlier year's closed round through publicity to its sign-off, as the committee
    /// did that winter; the year before this one had an objection upheld, a public answer found
    /// to be one person's second, so its record shows a correction.
    private func approve(_ round: UUID, year: Int, withObjection: Bool, actor: AuditActor, logger: Logger) async throws {
        let database = services.database
        _ = try await services.publicity.publicise(round, endsAt: .now + 3600, shows: .top, actor: actor, logger: logger)
        if withObjection {
            let code = try await database.query(
                "SELECT b.code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(round) ORDER BY b.code OFFSET 2 LIMIT 1"
            ).first!.decode(String.self)
            let filed = try await services.objections.file(
                ObjectionDraft(
                    branchCode: code,
                    body: "该支部的群众评价中，同一台手机提交了两次，其中一次打了很低的分，请核实。",
                    contactName: "李群众",
                    contactPhone: "13800000000",
                    submissionKey: "demo-objection-\(year)"
                ),
                round: round,
                filer: nil,
                logger: logger
            )
            try await services.objections.assign(filed.id, to: "admin", actor: actor, logger: logger)
            let response = try await database.query(
                """
                SELECT r.id FROM responses r JOIN branches b ON b.id = r.branch_id
                WHERE r.round_id = \(round) AND b.code = \(code) AND r.rater_group = 'public' ORDER BY r.score, r.id LIMIT 1
                """
            ).first!.decode(UUID.self)
            _ = try await services.corrections.excludeBallot(
                round: round,
                response: response,
                reason: "经核实为同一人重复提交，认定无效",
                objection: filed.id,
                actor: actor,
                logger: logger
            )
            try await services.objections.decide(
                filed.id,
                .upheld,
                reply: "经核实，该答卷系重复提交，已认定无效并重新计算，结果已更正。感谢您的监督。",
                actor: actor,
                logger: logger
            )
        }
        try await database.query("UPDATE rounds SET publicity_ended_at = now() WHERE id = \(round)")
        try await services.publicity.approve(
            round,
            reference: "党委会纪要〔\(year + 1)〕\(withObjection ? 3 : 2)号",
            meetingOn: "\(year + 1)-01-08",
            actor: actor,
            logger: logger
        )
        // As if it had been published in the December of its year and approved in January.
        try await database.query(
            """
            UPDATE rounds SET
              publicity_starts_at = make_timestamptz(\(year)::int, 12, 22, 9, 0, 0, 'Asia/Shanghai'),
              publicity_started_at = make_timestamptz(\(year)::int, 12, 22, 9, 0, 0, 'Asia/Shanghai'),
              publicity_ends_at = make_timestamptz(\(year)::int, 12, 28, 18, 0, 0, 'Asia/Shanghai'),
              publicity_ended_at = make_timestamptz(\(year)::int, 12, 28, 18, 0, 0, 'Asia/Shanghai')
            WHERE id = \(round)
            """
        )
        try await database.query(
            "UPDATE round_approvals SET approved_at = make_timestamptz(\(year + 1)::int, 1, 8, 16, 0, 0, 'Asia/Shanghai') WHERE round_id = \(round)"
        )
        try await database.query(
            """
            UPDATE objections SET filed_at = make_timestamptz(\(year)::int, 12, 23, 10, 12, 0, 'Asia/Shanghai'),
              replied_at = make_timestamptz(\(year)::int, 12, 27, 15, 0, 0, 'Asia/Shanghai'),
              decided_at = make_timestamptz(\(year)::int, 12, 27, 15, 0, 0, 'Asia/Shanghai')
            WHERE round_id = \(round)
            """
        )
        try await database.query(
            "UPDATE result_corrections SET made_at = make_timestamptz(\(year)::int, 12, 27, 14, 30, 0, 'Asia/Shanghai') WHERE round_id = \(round)"
        )
    }

    private func fill(
        round: UUID,
        quality: [String: Double],
        evaluator: UUID,
        random: inout SystemRandomNumberGenerator,
        logger: Logger
    ) async throws -> (firstUnused: String?, links: [InvitationLink], publicCode: String) {
        let invitations = services.invitations
        let responses = services.responses
        let forms = services.forms
        let links = try await invitations.links(roundID: round)
        var firstUnused: String?
        for link in links {
            guard Double.random(in: 0...1, using: &random) < 0.8 else {
                if firstUnused == nil { firstUnused = link.token }
                continue
            }
            let target = try await invitations.resolve(token: link.token)!
            let respondent = try await responses.target(roundID: round, group: .members, branchID: target.branchID)!
            let form = try await forms.definition(id: respondent.formVersionID)!
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
        let branches = try await database.query(
            """
            SELECT b.code, rb.public_code, rb.branch_id FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(round) ORDER BY b.code
            """
        )
        .map { try $0.decode((String, String, UUID).self) }
        let sheetRepository = services.sheets
        for (code, _, branchID) in branches {
            let respondent = try await responses.target(roundID: round, group: .public, branchID: branchID)!
            let form = try await forms.definition(id: respondent.formVersionID)!
            for _ in 0..<Int.random(in: 10...20, using: &random) {
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
            guard let target = try await sheetRepository.target(roundID: round, branchCode: code, userID: evaluator),
                let sheetForm = try await forms.definition(id: target.formVersionID)
            else { continue }
            let answers = Self.sheetAnswers(sheetForm, quality: quality[code]!, &random)
            try await services.database.transaction(logger: logger) { connection in
                try await sheetRepository.save(
                    roundID: round,
                    branchID: branchID,
                    userID: evaluator,
                    formVersionID: target.formVersionID,
                    form: sheetForm,
                    answers: answers,
                    submit: true,
                    on: connection,
                    logger: logger
                )
            }
        }
        _ = try await services.ballots.mixFullRounds(logger: logger)
        return (firstUnused, links, branches[0].1)
    }

    /// The evaluator's sheet for a branch of the given quality: fewer points lost and more
    /// bonus the better it is; a weak branch may fail a baseline item.
    /// The members' form as version 1 scored it (很好 100, 较好 75, 一般 50, 较差 25, 很差 0),
    /// from version 2, which differs only in those points; `nil` for any other form or version.
    static func firstMemberForm(_ current: FormDefinition) -> FormDefinition? {
        guard current.version == 2, current.id == "member-integration" else { return nil }
        let points: [String: Double] = ["5": 100, "4": 75, "3": 50, "2": 25, "1": 0]
        func earlier(_ options: [AnswerOption]) -> [AnswerOption] {
            options.map { option in
                var option = option
                if option.points != nil, let first = points[option.key] { option.points = first }
                return option
            }
        }
        var form = current
        form.version = 1
        form.scales = form.scales.map { scale in
            var scale = scale
            if scale.key == "five" { scale.options = earlier(scale.options) }
            return scale
        }
        form.sections = form.sections.map { section in
            var section = section
            section.items = section.items.map { item in
                var item = item
                if item.scale == "five" { item.options = earlier(item.options) }
                return item
            }
            return section
        }
        return form
    }

    static func sheetAnswers(_ form: FormDefinition, quality: Double, _ random: inout SystemRandomNumberGenerator) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        for item in form.items {
            switch item.type {
            case .deduction:
                let maximum = item.maximum ?? 10
                let lost = (maximum * (1 - quality) * Double.random(in: 0.4...1.1, using: &random) * 2).rounded() / 2
                answers[item.key] = .points(min(max(lost, 0), maximum), note: lost > 0 ? "部分工作记录不完整" : "")
            case .baseline:
                let failed = quality < 0.55 && item.key == "dues_collected" && Double.random(in: 0...1, using: &random) < 0.5
                answers[item.key] = .baseline(passed: !failed, note: failed ? "党费未按时足额收缴" : "")
            case .bonus:
                let maximum = item.maximum ?? 2
                let earned = (maximum * quality * Double.random(in: 0...1, using: &random) * 2).rounded() / 2
                answers[item.key] = .points(min(earned, maximum), note: earned > 0 ? "获上级表彰或创新做法" : "")
            default:
                break
            }
        }
        return answers
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
            // The model branch (quality 0.95 and above) is rated near the top by everyone: with
            // its nine members the full spread sometimes cost it 优秀 in a year, and with it its
            // place on the commendation list the demo shows.
            let noise = Double.random(in: -0.35...0.35, using: &random) * (quality >= 0.95 ? 0.2 : 1)
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
