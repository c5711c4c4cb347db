import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

public struct RoundSummary: Sendable {
    public let id: UUID
    public let title: String
    public let year: Int
    public let status: String
    public let opensAt: Date?
    public let closesAt: Date?
    public let openedAt: Date?
    public let closedAt: Date?
    public let configHash: String?
    public let branches: Int
}

public struct BranchProgress: Sendable {
    public let code: String
    public let name: String
    public let eligibleMembers: Int
    public let publicCode: String
    public let memberResponses: Int
    public let publicResponses: Int
    public let sheets: Int

    /// Share of eligible members who answered, 0–1; `nil` when nobody is eligible.
    public var memberRate: Double? { eligibleMembers > 0 ? Double(memberResponses) / Double(eligibleMembers) : nil }
}

public enum RoundError: Error, Equatable, CustomStringConvertible {
    case notFound
    case invalid([RoundConfiguration.Problem])
    case wrongStatus(current: String, action: String)
    case unknownBranches([String])
    case noBranches
    case formNotAvailable(String)
    case reasonRequired
    case noClosingTime

    public var description: String {
        switch self {
        case .notFound: "no such round"
        case .invalid(let problems): problems.map(\.english).joined(separator: "; ")
        case .wrongStatus(let current, let action): "a round that is \(current) cannot be \(action)"
        case .unknownBranches(let codes): "no branch has the code \(codes.map { "'\($0)'" }.joined(separator: ", "))"
        case .noBranches: "the round has no branches: import branches first"
        case .formNotAvailable(let form): "the form '\(form)' is not loaded from the forms directory, or is the wrong kind for its group"
        case .reasonRequired: "reopening a closed round needs a reason"
        case .noClosingTime: "the round has no closing time, so it would never close by itself: set one (extend) before opening it"
        }
    }

    static let chineseStatus = ["draft": "草稿状态", "scheduled": "已排期", "open": "进行中", "closed": "已结束"]
    static let chineseAction = ["opened": "开始", "closed": "结束", "extended": "延期", "reopened": "重新开放"]

    /// The same in the administrator's language.
    public func message(english: Bool) -> String {
        if english { return description }
        return switch self {
        case .notFound: "没有这个轮次"
        case .invalid(let problems): problems.map(\.chinese).joined(separator: "；")
        case .wrongStatus(let current, let action):
            "\(Self.chineseStatus[current] ?? current)的轮次不能\(Self.chineseAction[action] ?? action)"
        case .unknownBranches(let codes): "没有编码为\(codes.map { "“\($0)”" }.joined(separator: "、"))的支部"
        case .noBranches: "这个轮次没有参评支部：请先导入支部"
        case .formNotAvailable(let form): "表单“\(form)”未从表单目录加载，或与评价主体的类型不符"
        case .reasonRequired: "重新开放已结束的轮次必须填写原因"
        case .noClosingTime: "这个轮次没有截止时间，开始后不会自动结束：请先设定截止时间（延期）再开始"
        }
    }
}

/// Rounds and their life: draft or scheduled → open → closed (and, with a reason, open again).
public struct RoundRepository: Sendable {
    public let database: Database
    let forms: FormCatalog
    let audit: any AuditLog
    /// Frozen form versions, for scoring a round at close.
    let frozenForms: any FormRepository

    public init(database: Database, forms: FormCatalog, audit: any AuditLog, frozenForms: (any FormRepository)? = nil) {
        self.database = database
        self.forms = forms
        self.audit = audit
        self.frozenForms = frozenForms ?? PostgresFormRepository(database: database)
    }

    // MARK: Creating

    public func create(_ spec: RoundSpec, actor: AuditActor, logger: Logger) async throws -> UUID {
        let problems = spec.configuration.problems()
        guard problems.isEmpty else { throw RoundError.invalid(problems) }
        for (group, settings) in spec.configuration.groups {
            guard let form = forms.form(settings.form), (form.kind == .sheet) == (group == .organisation) else {
                throw RoundError.formNotAvailable(settings.form)
            }
        }
        let configuration = try Self.json(spec.configuration)
        let status = spec.opensAt == nil ? "draft" : "scheduled"
        let groups = spec.configuration.groups.sorted { $0.key < $1.key }
        let branchCodes = spec.branches
        let id = try await database.transaction(logger: logger) { connection in
            var branches: [(UUID, String)] = []
            let rows = try await connection.query("SELECT id, code FROM branches WHERE active ORDER BY code", logger: logger)
            for try await (id, code) in rows.decode((UUID, String).self) { branches.append((id, code)) }
            if let codes = branchCodes {
                let known = Set(branches.map(\.1))
                let unknown = codes.filter { !known.contains($0) }
                guard unknown.isEmpty else { throw RoundError.unknownBranches(unknown) }
                branches = branches.filter { codes.contains($0.1) }
            }
            guard !branches.isEmpty else { throw RoundError.noBranches }
            var roundID: UUID?
            for try await id in try await connection.query(
                """
                INSERT INTO rounds (title, year, status, config, opens_at, closes_at, created_by)
                VALUES (\(spec.title), \(spec.year), \(status), \(configuration)::jsonb, \(spec.opensAt), \(spec.closesAt), \(actor.userID))
                RETURNING id
                """,
                logger: logger
            ).decode(UUID.self) { roundID = id }
            let round = roundID!
            for (group, settings) in groups {
                let groupConfig = try Self.json(settings)
                for try await _ in try await connection.query(
                    """
                    INSERT INTO round_groups (round_id, rater_group, form_key, weight, config)
                    VALUES (\(round), \(group.rawValue), \(settings.form), \(settings.weight), \(groupConfig)::jsonb)
                    """,
                    logger: logger
                ) {}
            }
            let branchIDs = branches.map(\.0)
            for try await _ in try await connection.query(
                """
                INSERT INTO round_branches (round_id, branch_id, eligible_members, public_code, public_cap)
                SELECT \(round), b.id,
                       (SELECT count(*)::int FROM members m WHERE m.branch_id = b.id AND m.active),
                       substr(replace(gen_random_uuid()::text, '-', ''), 1, 12),
                       \(spec.publicCap)
                FROM unnest(\(branchIDs)::uuid[]) AS b(id)
                """,
                logger: logger
            ) {}
            return round
        }
        try await audit.record(
            .init(
                action: "round.created",
                actorUserID: actor.userID,
                actorName: actor.name,
                subject: id.uuidString.lowercased(),
                details: ["title": spec.title]
            )
        )
        return id
    }

    /// A branch's public link in a round: the code in `/p/{code}`.
    public struct PublicLink: Sendable, Equatable {
        public let branchCode: String
        public let branchName: String
        public let publicCode: String
    }

    /// The public links of a round's branches, in branch-code order; `nil` for no such round.
    public func publicLinks(_ id: UUID) async throws -> [PublicLink]? {
        guard try await round(id) != nil else { return nil }
        let rows = try await database.query(
            """
            SELECT b.code, b.name, rb.public_code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(id) ORDER BY b.code
            """
        )
        return try rows.map { row in
            let (code, name, publicCode) = try row.decode((String, String, String).self)
            return PublicLink(branchCode: code, branchName: name, publicCode: publicCode)
        }
    }

    // MARK: Life cycle

    /// Opens a draft or scheduled round now: freezes its forms and configuration.
    public func open(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status == "draft" || status == "scheduled" else { throw RoundError.wrongStatus(current: status, action: "opened") }
            var closes: Date?
            for try await row in try await connection.query("SELECT closes_at FROM rounds WHERE id = \(id)", logger: logger) {
                closes = try row.decode(Date?.self)
            }
            guard closes != nil else { throw RoundError.noClosingTime }
            try await freezeAndOpen(id, connection: connection, logger: logger)
        }
        try await audit.record(.init(action: "round.opened", actorUserID: actor.userID, actorName: actor.name, subject: id.uuidString.lowercased()))
    }

    /// Closes an open round: empties the ballot box into the responses, stamps it closed and
    /// stores the final result snapshot, all in one transaction, exactly once.
    @discardableResult
    public func close(_ id: UUID, actor: AuditActor, logger: Logger) async throws -> Bool {
        let closed = try await database.transaction(logger: logger) { connection -> Bool in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status == "open" else { throw RoundError.wrongStatus(current: status, action: "closed") }
            return try await closeLocked(id, connection: connection, logger: logger)
        }
        if closed {
            try await audit.record(
                .init(action: "round.closed", actorUserID: actor.userID, actorName: actor.name, subject: id.uuidString.lowercased())
            )
        }
        return closed
    }

    /// Gives an open round a later deadline.
    public func extend(_ id: UUID, closesAt: Date, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status == "open" || status == "scheduled" || status == "draft" else {
                throw RoundError.wrongStatus(current: status, action: "extended")
            }
            for try await _ in try await connection.query(
                "UPDATE rounds SET closes_at = \(closesAt), updated_at = now() WHERE id = \(id) AND (opens_at IS NULL OR opens_at < \(closesAt))",
                logger: logger
            ) {}
        }
        try await audit.record(
            .init(
                action: "round.extended",
                actorUserID: actor.userID,
                actorName: actor.name,
                subject: id.uuidString.lowercased(),
                details: ["closes": ChinaTime.format(closesAt)]
            )
        )
    }

    /// Reopens a closed round until `closesAt`; only with a reason, which the audit log keeps.
    public func reopen(_ id: UUID, closesAt: Date, reason: String, actor: AuditActor, logger: Logger) async throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw RoundError.reasonRequired }
        try await database.transaction(logger: logger) { connection in
            let status = try await Self.lockedStatus(id, connection: connection, logger: logger)
            guard status == "closed" else { throw RoundError.wrongStatus(current: status, action: "reopened") }
            for try await _ in try await connection.query(
                "DELETE FROM result_snapshots WHERE round_id = \(id) AND kind = 'final'",
                logger: logger
            ) {}
            for try await _ in try await connection.query(
                "UPDATE rounds SET status = 'open', closed_at = NULL, closes_at = \(closesAt), updated_at = now() WHERE id = \(id)",
                logger: logger
            ) {}
        }
        try await audit.record(
            .init(
                action: "round.reopened",
                actorUserID: actor.userID,
                actorName: actor.name,
                subject: id.uuidString.lowercased(),
                details: ["reason": reason, "closes": ChinaTime.format(closesAt)]
            )
        )
    }

    /// Opens scheduled rounds whose time has come and closes open ones that are due. Safe to
    /// run from every instance at once: each round is taken under a row lock, skipping rounds
    /// another instance holds, and its status is checked again under the lock.
    public func runDue(logger: Logger) async throws -> (opened: [UUID], closed: [UUID]) {
        var opened: [UUID] = []
        var closed: [UUID] = []
        let due = try await database.query(
            """
            SELECT id, status FROM rounds
            WHERE (status = 'scheduled' AND opens_at <= now() AND closes_at IS NOT NULL) OR (status = 'open' AND closes_at <= now())
            """
        ).map { try $0.decode((UUID, String).self) }
        for (id, _) in due {
            let outcome = try await database.transaction(logger: logger) { connection -> String? in
                var current: String?
                for try await (status, opensDue, closesDue) in try await connection.query(
                    """
                    SELECT status, opens_at <= now(), coalesce(closes_at <= now(), false) FROM rounds
                    WHERE id = \(id) FOR UPDATE SKIP LOCKED
                    """,
                    logger: logger
                ).decode((String, Bool?, Bool).self) {
                    if status == "scheduled" && opensDue == true { current = "open" }
                    if status == "open" && closesDue { current = "close" }
                }
                switch current {
                case "open":
                    try await freezeAndOpen(id, connection: connection, logger: logger)
                    return "opened"
                case "close":
                    return try await closeLocked(id, connection: connection, logger: logger) ? "closed" : nil
                default:
                    return nil
                }
            }
            if outcome == "opened" {
                opened.append(id)
                try await audit.record(.init(action: "round.opened", actorName: "scheduler", subject: id.uuidString.lowercased()))
            } else if outcome == "closed" {
                closed.append(id)
                try await audit.record(.init(action: "round.closed", actorName: "scheduler", subject: id.uuidString.lowercased()))
            }
        }
        return (opened, closed)
    }

    // MARK: Reading

    public func list() async throws -> [RoundSummary] {
        try await summaries(nil)
    }

    /// The rounds a branch takes part in, newest first.
    public func list(branchID: UUID) async throws -> [RoundSummary] {
        try await summaries(nil, branchID: branchID)
    }

    public func round(_ id: UUID) async throws -> RoundSummary? {
        try await summaries(id).first
    }

    /// The scoring configuration the round was created with.
    public func configuration(_ id: UUID) async throws -> RoundConfiguration? {
        guard let json = try await database.query("SELECT config::text FROM rounds WHERE id = \(id)").first?.decode(String.self) else {
            return nil
        }
        return (try? JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8))) ?? RoundConfiguration()
    }

    /// One round, or all of them (or a branch's) newest first.
    private func summaries(_ id: UUID?, branchID: UUID? = nil) async throws -> [RoundSummary] {
        try await database.query(
            """
            SELECT r.id, r.title, r.year, r.status, r.opens_at, r.closes_at, r.opened_at, r.closed_at, r.config_hash,
                   (SELECT count(*)::int FROM round_branches rb WHERE rb.round_id = r.id)
            FROM rounds r
            WHERE (\(id)::uuid IS NULL OR r.id = \(id))
              AND (\(branchID)::uuid IS NULL OR EXISTS (SELECT 1 FROM round_branches rb WHERE rb.round_id = r.id AND rb.branch_id = \(branchID)))
            ORDER BY r.created_at DESC
            """
        ).map(Self.summary)
    }

    /// Answers per branch of round `$1`, members and public, counting ballots still waiting in
    /// the ballot box: one aggregate pass, shared by the progress page and its totals.
    private static let answerCounts = """
        counted AS (
          SELECT branch_id,
                 count(*) FILTER (WHERE rater_group = 'members') AS members,
                 count(*) FILTER (WHERE rater_group = 'public') AS public
          FROM (SELECT branch_id, rater_group FROM responses WHERE round_id = $1
                UNION ALL SELECT branch_id, rater_group FROM ballot_box WHERE round_id = $1) answered
          GROUP BY branch_id
        )
        """

    /// Responses per branch and group, live (ballots still in the box included), one page of
    /// branches at a time, in code order.
    public func progress(_ id: UUID, limit: Int = 100_000, offset: Int = 0) async throws -> [BranchProgress] {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(limit)
        binds.append(offset)
        return try await database.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH \(Self.answerCounts), sheets AS (
                      SELECT branch_id, count(*) AS n FROM org_sheets WHERE round_id = $1 AND status = 'submitted' GROUP BY branch_id
                    )
                    SELECT b.code, b.name, rb.eligible_members, rb.public_code,
                           coalesce(c.members, 0)::int, coalesce(c.public, 0)::int, coalesce(s.n, 0)::int
                    FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
                    LEFT JOIN counted c ON c.branch_id = rb.branch_id
                    LEFT JOIN sheets s ON s.branch_id = rb.branch_id
                    WHERE rb.round_id = $1 ORDER BY b.code LIMIT $2 OFFSET $3
                    """,
                binds: binds
            )
        ).map { row in
            let (code, name, eligible, publicCode, members, publicCount, sheets) = try row.decode((String, String, Int, String, Int, Int, Int).self)
            return BranchProgress(
                code: code,
                name: name,
                eligibleMembers: eligible,
                publicCode: publicCode,
                memberResponses: members,
                publicResponses: publicCount,
                sheets: sheets
            )
        }
    }

    /// The branch behind a public link code of a round.
    public func branch(_ id: UUID, publicCode: String) async throws -> (code: String, name: String)? {
        try await database.query(
            "SELECT b.code, b.name FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(id) AND rb.public_code = \(publicCode)"
        ).first.map { try $0.decode((String, String).self) }
    }

    public struct ProgressTotals: Sendable {
        public let branches: Int
        public let eligibleMembers: Int
        public let memberResponses: Int
        public let publicResponses: Int
        /// Branches with more member answers than eligible members (the vote check fails).
        public let overCounted: Int
    }

    public func progressTotals(_ id: UUID) async throws -> ProgressTotals {
        var binds = PostgresBindings()
        binds.append(id)
        let row = try await database.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH \(Self.answerCounts)
                    SELECT count(*)::int, coalesce(sum(rb.eligible_members), 0)::int, coalesce(sum(c.members), 0)::int,
                           coalesce(sum(c.public), 0)::int, count(*) FILTER (WHERE coalesce(c.members, 0) > rb.eligible_members)::int
                    FROM round_branches rb LEFT JOIN counted c ON c.branch_id = rb.branch_id
                    WHERE rb.round_id = $1
                    """,
                binds: binds
            )
        ).first!
        let (branches, eligible, members, publicCount, over) = try row.decode((Int, Int, Int, Int, Int).self)
        return ProgressTotals(
            branches: branches,
            eligibleMembers: eligible,
            memberResponses: members,
            publicResponses: publicCount,
            overCounted: over
        )
    }

    // MARK: Steps

    private func freezeAndOpen(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws {
        // Each group gets the form version frozen from the file as it is now.
        var missing: [String] = []
        for try await (form, found) in try await connection.query(
            """
            UPDATE round_groups g SET form_version_id = (
              SELECT v.id FROM form_versions v WHERE v.form_key = g.form_key ORDER BY v.created_at DESC LIMIT 1)
            WHERE g.round_id = \(id)
            RETURNING g.form_key, g.form_version_id IS NOT NULL
            """,
            logger: logger
        ).decode((String, Bool).self) where !found { missing.append(form) }
        if let form = missing.first { throw RoundError.formNotAvailable(form) }
        for try await _ in try await connection.query(
            """
            UPDATE round_branches rb SET eligible_members =
              (SELECT count(*)::int FROM members m WHERE m.branch_id = rb.branch_id AND m.active)
            WHERE rb.round_id = \(id)
            """,
            logger: logger
        ) {}
        // The hash covers the scoring configuration and the exact forms: results carry it.
        for try await _ in try await connection.query(
            """
            UPDATE rounds r SET status = 'open', opened_at = now(), updated_at = now(),
              opens_at = coalesce(least(r.opens_at, now()), now()),
              config_hash = encode(sha256(convert_to(r.config::text || (
                SELECT string_agg(g.rater_group || ':' || v.checksum, ',' ORDER BY g.rater_group)
                FROM round_groups g JOIN form_versions v ON v.id = g.form_version_id WHERE g.round_id = r.id), 'UTF8')), 'hex')
            WHERE r.id = \(id)
            """,
            logger: logger
        ) {}
    }

    private func closeLocked(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws -> Bool {
        var stamped = false
        for try await _ in try await connection.query(
            "UPDATE rounds SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = \(id) AND status = 'open' RETURNING 1",
            logger: logger
        ) { stamped = true }
        guard stamped else { return false }
        // Ballots still waiting in the box join the responses, shuffled, whatever their number.
        _ = try await BallotBox.mix(roundID: id, connection: connection, logger: logger)
        // The final results, computed in this transaction from everything it has just mixed
        // in, stored once (docs/scoring.md).
        guard let result = try await ResultsRepository.compute(roundID: id, forms: frozenForms, connection: connection, logger: logger) else {
            return true
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(result), as: UTF8.self)
        for try await _ in try await connection.query(
            """
            INSERT INTO result_snapshots (round_id, kind, method_version, config_hash, results)
            VALUES (\(id), 'final', \(result.methodVersion), \(result.configurationHash), \(json)::jsonb)
            ON CONFLICT (round_id) WHERE kind = 'final' DO NOTHING
            """,
            logger: logger
        ) {}
        return true
    }

    static func lockedStatus(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws -> String {
        var status: String?
        for try await value in try await connection.query("SELECT status FROM rounds WHERE id = \(id) FOR UPDATE", logger: logger).decode(String.self)
        {
            status = value
        }
        guard let status else { throw RoundError.notFound }
        return status
    }

    static func summary(_ row: PostgresRow) throws -> RoundSummary {
        let (id, title, year, status, opens, closes, opened, closed, hash, branches) =
            try row.decode((UUID, String, Int, String, Date?, Date?, Date?, Date?, String?, Int).self)
        return RoundSummary(
            id: id,
            title: title,
            year: year,
            status: status,
            opensAt: opens,
            closesAt: closes,
            openedAt: opened,
            closedAt: closed,
            configHash: hash,
            branches: branches
        )
    }

    static func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Who did something, for the audit log.
public struct AuditActor: Sendable {
    public let userID: UUID?
    public let name: String

    public init(userID: UUID?, name: String) {
        self.userID = userID
        self.name = name
    }

    public static let commandLine = AuditActor(userID: nil, name: "cli")
}

extension Database {
    /// The codes among `codes` that name no branch of the round, each once, in the order typed:
    /// what an administrator is told when a form names branches the round does not have.
    func codesNotInRound(_ codes: [String], roundID: UUID) async throws -> [String] {
        guard !codes.isEmpty else { return [] }
        let known = Set(
            try await query(
                "SELECT b.code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(roundID) AND b.code = ANY(\(codes)::text[])"
            ).map { try $0.decode(String.self) }
        )
        var seen = Set<String>()
        return codes.filter { !known.contains($0) && seen.insert($0).inserted }
    }
}
