import Foundation
import KaopingAggregation
import PostgresNIO

public struct RoundSummary: Sendable {
    public let id: UUID
    public let title: String
    public let year: Int
    public let status: RoundStatus
    public let opensAt: Date?
    public let closesAt: Date?
    public let openedAt: Date?
    public let closedAt: Date?
    public let configHash: String?
    public let branches: Int
    /// Why a cancelled round was cancelled, and when.
    public var cancelReason: String? = nil
    public var cancelledAt: Date? = nil
}

public struct BranchProgress: Sendable {
    public let code: String
    public let name: String
    public let eligibleMembers: Int
    public let publicCode: String
    public let memberResponses: Int
    public let publicResponses: Int
    /// Public answers turned away: too many from one address, or the cap reached.
    public let publicRefusals: Int
    public let sheets: Int
    /// Whether the branch answers its public link from a shared device (one browser may answer again).
    public var sharedDevice = false
    /// Public answers from a browser that had answered before (shared-device branches only).
    public var repeatedDeviceAnswers = 0

    /// Share of eligible members who answered, 0–1; `nil` when nobody is eligible.
    public var memberRate: Double? { eligibleMembers > 0 ? Double(memberResponses) / Double(eligibleMembers) : nil }
}

/// What the pages and commands read of rounds: summaries, configuration, progress, links.
extension RoundRepository {
    /// A round that is running or about to, as an administrator's home page sums it up.
    public struct Agenda: Sendable {
        public let id: UUID
        public let title: String
        public let status: RoundStatus
        public let closesAt: Date?
        public let branches: Int
        public let eligibleMembers: Int
        public let memberResponses: Int
        public let publicResponses: Int
        /// Whether the round has an organisation group, which needs evaluators.
        public let needsEvaluators: Bool
        /// Branches with at least one evaluator assigned.
        public let branchesWithEvaluators: Int
        public let assignments: Int
        public let submittedSheets: Int
    }

    /// Rounds being prepared, scheduled or open, soonest closing first.
    public func agenda() async throws -> [Agenda] {
        try await database.query(
            """
            SELECT r.id, r.title, r.status, r.closes_at,
                   (SELECT count(*)::int FROM round_branches WHERE round_id = r.id),
                   (SELECT coalesce(sum(eligible_members), 0)::int FROM round_branches WHERE round_id = r.id),
                   (SELECT count(*)::int FROM responses WHERE round_id = r.id AND rater_group = 'members')
                     + (SELECT count(*)::int FROM ballot_box WHERE round_id = r.id AND rater_group = 'members'),
                   (SELECT count(*)::int FROM responses WHERE round_id = r.id AND rater_group = 'public')
                     + (SELECT count(*)::int FROM ballot_box WHERE round_id = r.id AND rater_group = 'public'),
                   EXISTS (SELECT 1 FROM round_groups WHERE round_id = r.id AND rater_group = 'organisation'),
                   (SELECT count(DISTINCT branch_id)::int FROM evaluator_assignments WHERE round_id = r.id),
                   (SELECT count(*)::int FROM evaluator_assignments WHERE round_id = r.id),
                   (SELECT count(*)::int FROM org_sheets s JOIN evaluator_assignments a
                      ON a.round_id = s.round_id AND a.branch_id = s.branch_id AND a.user_id = s.evaluator_id
                    WHERE s.round_id = r.id AND s.status = 'submitted')
            FROM rounds r
            WHERE r.status IN (\(RoundStatus.draft), \(RoundStatus.scheduled), \(RoundStatus.open))
            ORDER BY r.closes_at NULLS LAST, r.created_at
            """
        ).map { row in
            let (id, title, status, closes, branches, eligible, members, publicCount, needs, covered, assignments, submitted) =
                try row.decode((UUID, String, RoundStatus, Date?, Int, Int, Int, Int, Bool, Int, Int, Int).self)
            return Agenda(
                id: id,
                title: title,
                status: status,
                closesAt: closes,
                branches: branches,
                eligibleMembers: eligible,
                memberResponses: members,
                publicResponses: publicCount,
                needsEvaluators: needs,
                branchesWithEvaluators: covered,
                assignments: assignments,
                submittedSheets: submitted
            )
        }
    }

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

    /// The ids of the newest closed rounds, newest first.
    public func newestClosed(_ count: Int) async throws -> [UUID] {
        try await database.query(
            "SELECT id FROM rounds WHERE status = ANY(\(RoundStatus.withResults)::text[]) ORDER BY closed_at DESC NULLS LAST LIMIT \(count)"
        ).map { try $0.decode(UUID.self) }
    }

    /// The scoring configuration the round was created with.
    public func configuration(_ id: UUID) async throws -> RoundConfiguration? {
        guard let json = try await database.query("SELECT config::text FROM rounds WHERE id = \(id)").first?.decode(String.self) else {
            return nil
        }
        return Self.configuration(json: json)
    }

    /// A stored configuration; one the method cannot read (an empty object, as rounds made
    /// before their settings had all been decided) is the standard one.
    static func configuration(json: String) -> RoundConfiguration {
        (try? JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8))) ?? RoundConfiguration()
    }

    /// One round, or all of them (or a branch's) newest first.
    private func summaries(_ id: UUID?, branchID: UUID? = nil) async throws -> [RoundSummary] {
        try await database.query(
            """
            SELECT r.id, r.title, r.year, r.status, r.opens_at, r.closes_at, r.opened_at, r.closed_at, r.config_hash,
                   (SELECT count(*)::int FROM round_branches rb WHERE rb.round_id = r.id), r.cancel_reason, r.cancelled_at
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
                           coalesce(c.members, 0)::int, coalesce(c.public, 0)::int, rb.public_refusals, coalesce(s.n, 0)::int,
                           rb.shared_device, rb.repeated_device_answers
                    FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
                    LEFT JOIN counted c ON c.branch_id = rb.branch_id
                    LEFT JOIN sheets s ON s.branch_id = rb.branch_id
                    WHERE rb.round_id = $1 ORDER BY b.code LIMIT $2 OFFSET $3
                    """,
                binds: binds
            )
        ).map { row in
            let (code, name, eligible, publicCode, members, publicCount, refusals, sheets, shared, repeated) =
                try row.decode((String, String, Int, String, Int, Int, Int, Int, Bool, Int).self)
            return BranchProgress(
                code: code,
                name: name,
                eligibleMembers: eligible,
                publicCode: publicCode,
                memberResponses: members,
                publicResponses: publicCount,
                publicRefusals: refusals,
                sheets: sheets,
                sharedDevice: shared,
                repeatedDeviceAnswers: repeated
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
        public let publicRefusals: Int
        /// Branches with more member answers than eligible members (the vote check fails).
        public let overCounted: Int
        /// Public answers from browsers that had answered before, over the round.
        public var repeatedDeviceAnswers = 0
    }

    public func progressTotals(_ id: UUID) async throws -> ProgressTotals {
        var binds = PostgresBindings()
        binds.append(id)
        let row = try await database.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH \(Self.answerCounts)
                    SELECT count(*)::int, coalesce(sum(rb.eligible_members), 0)::int, coalesce(sum(c.members), 0)::int,
                           coalesce(sum(c.public), 0)::int, coalesce(sum(rb.public_refusals), 0)::int,
                           count(*) FILTER (WHERE coalesce(c.members, 0) > rb.eligible_members)::int,
                           coalesce(sum(rb.repeated_device_answers), 0)::int
                    FROM round_branches rb LEFT JOIN counted c ON c.branch_id = rb.branch_id
                    WHERE rb.round_id = $1
                    """,
                binds: binds
            )
        ).first!
        let (branches, eligible, members, publicCount, refusals, over, repeated) = try row.decode((Int, Int, Int, Int, Int, Int, Int).self)
        return ProgressTotals(
            branches: branches,
            eligibleMembers: eligible,
            memberResponses: members,
            publicResponses: publicCount,
            publicRefusals: refusals,
            overCounted: over,
            repeatedDeviceAnswers: repeated
        )
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

    static func summary(_ row: PostgresRow) throws -> RoundSummary {
        let (id, title, year, status, opens, closes, opened, closed, hash, branches, reason, cancelled) =
            try row.decode((UUID, String, Int, RoundStatus, Date?, Date?, Date?, Date?, String?, Int, String?, Date?).self)
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
            branches: branches,
            cancelReason: reason,
            cancelledAt: cancelled
        )
    }
}
