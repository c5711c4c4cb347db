import Crypto
import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The SQL of the members' appraisal: rounds and their life, links, self-assessments, ballots
/// into the sealed box, the counts the mixer keeps, and the committees' proposals.
public struct AppraisalRepository: Sendable {
    let database: Database
    let tokens: InvitationTokens
    let seal: BallotSeal

    public init(database: Database, tokens: InvitationTokens, seal: BallotSeal) {
        self.database = database
        self.tokens = tokens
        self.seal = seal
    }

    // MARK: Rounds

    func create(_ spec: AppraisalSpec, createdBy: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> UUID {
        let branches = try await RoundRepository.activeBranches(spec.branches, on: connection, logger: logger)
        guard !branches.isEmpty else { throw RoundError.noBranches }
        let status: AppraisalStatus = spec.opensAt == nil ? .draft : .scheduled
        var id: UUID?
        for try await value in try await connection.query(
            """
            INSERT INTO appraisal_rounds (title, year, status, config, opens_at, closes_at, created_by)
            VALUES (\(spec.title), \(spec.year), \(status), \(try RoundRepository.json(spec.settings))::jsonb, \(spec.opensAt), \(spec.closesAt), \(createdBy))
            RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { id = value }
        guard let id else { throw RoundError.notFound }
        try await connection.execute(
            "INSERT INTO appraisal_branches (round_id, branch_id) SELECT \(id), b FROM unnest(\(branches.map(\.id))::uuid[]) AS b",
            logger: logger
        )
        return id
    }

    public func rounds() async throws -> [AppraisalRound] {
        try await database.query(
            "SELECT id, title, year, status, config::text, opens_at, closes_at, closed_at FROM appraisal_rounds ORDER BY year DESC, created_at DESC"
        ).map(Self.round)
    }

    /// The rounds a branch takes part in whose vote has opened, newest first: what its secretary works on.
    public func rounds(branchID: UUID) async throws -> [AppraisalRound] {
        try await database.query(
            """
            SELECT r.id, r.title, r.year, r.status, r.config::text, r.opens_at, r.closes_at, r.closed_at
            FROM appraisal_rounds r JOIN appraisal_branches ab ON ab.round_id = r.id AND ab.branch_id = \(branchID)
            WHERE r.status IN ('open', 'closed') ORDER BY r.year DESC, r.created_at DESC
            """
        ).map(Self.round)
    }

    public func round(_ id: UUID) async throws -> AppraisalRound? {
        try await database.query(
            "SELECT id, title, year, status, config::text, opens_at, closes_at, closed_at FROM appraisal_rounds WHERE id = \(id)"
        ).first.map(Self.round)
    }

    static func round(_ row: PostgresRow) throws -> AppraisalRound {
        let (id, title, year, status, config, opens, closes, closed) = try row.decode(
            (UUID, String, Int, AppraisalStatus, String, Date?, Date?, Date?).self
        )
        let settings = try JSONDecoder().decode(AppraisalSettings.self, from: Data(config.utf8))
        return AppraisalRound(
            id: id,
            title: title,
            year: year,
            status: status,
            settings: settings,
            opensAt: opens,
            closesAt: closes,
            closedAt: closed
        )
    }

    static func lockedStatus(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> AppraisalStatus {
        var status: AppraisalStatus?
        for try await value in try await connection.query("SELECT status FROM appraisal_rounds WHERE id = \(id) FOR UPDATE", logger: logger)
            .decode(AppraisalStatus.self)
        { status = value }
        guard let status else { throw RoundError.notFound }
        return status
    }

    /// Opens the round: its members, as they are now, become the ones appraised.
    func open(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO appraisal_members (round_id, member_id, branch_id, party_group)
            SELECT \(id), m.id, m.branch_id, m.party_group
            FROM members m JOIN appraisal_branches ab ON ab.branch_id = m.branch_id AND ab.round_id = \(id)
            WHERE m.active
            ON CONFLICT (round_id, member_id) DO NOTHING
            """,
            logger: logger
        )
        try await connection.execute(
            """
            UPDATE appraisal_rounds SET status = 'open', opened_at = now(), updated_at = now(),
              opens_at = coalesce(least(opens_at, now()), now())
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    /// Closes an open round and counts every ballot in the box, in one transaction.
    func close(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        guard
            try await connection.changes(
                "UPDATE appraisal_rounds SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = \(id) AND status = 'open' RETURNING 1",
                logger: logger
            )
        else { return false }
        let counted = try await AppraisalBallotBox.count(roundID: id, seal: seal, connection: connection, logger: logger)
        logger.info("appraisal ballots counted", metadata: ["round": "\(id)", "ballots": "\(counted)"])
        return true
    }

    /// The rounds due to open or close now.
    func due() async throws -> [UUID] {
        try await database.query(
            """
            SELECT id FROM appraisal_rounds
            WHERE (status = 'scheduled' AND opens_at <= now() AND closes_at IS NOT NULL) OR (status = 'open' AND closes_at <= now())
            """
        ).map { try $0.decode(UUID.self) }
    }

    // MARK: Progress

    public func progress(_ id: UUID) async throws -> [AppraisalBranchProgress] {
        try await database.query(
            """
            SELECT b.code, b.name,
              (SELECT count(*)::int FROM appraisal_members am WHERE am.round_id = ab.round_id AND am.branch_id = ab.branch_id AND am.left_at IS NULL),
              (SELECT count(*)::int FROM appraisal_members am WHERE am.round_id = ab.round_id AND am.branch_id = ab.branch_id AND am.left_at IS NOT NULL),
              (SELECT count(*)::int FROM appraisal_invitations i WHERE i.round_id = ab.round_id AND i.branch_id = ab.branch_id AND i.member_id IS NOT NULL AND i.revoked_at IS NULL),
              (SELECT count(*)::int FROM appraisal_invitations i WHERE i.round_id = ab.round_id AND i.branch_id = ab.branch_id AND i.member_id IS NOT NULL AND i.voted),
              (SELECT count(*)::int FROM appraisal_self_assessments s JOIN appraisal_members am ON am.round_id = s.round_id AND am.member_id = s.member_id
                 WHERE s.round_id = ab.round_id AND am.branch_id = ab.branch_id),
              (SELECT count(*)::int FROM appraisal_representatives r WHERE r.round_id = ab.round_id AND r.branch_id = ab.branch_id),
              (SELECT count(*)::int FROM appraisal_invitations i WHERE i.round_id = ab.round_id AND i.branch_id = ab.branch_id AND i.representative_id IS NOT NULL AND i.voted),
              ab.review, ab.review_comment
            FROM appraisal_branches ab JOIN branches b ON b.id = ab.branch_id
            WHERE ab.round_id = \(id) ORDER BY b.code
            """
        ).map { row in
            let (code, name, members, left, invited, voted, assessed, representatives, representativesVoted, review, comment) = try row.decode(
                (String, String, Int, Int, Int, Int, Int, Int, Int, AppraisalReviewState, String).self
            )
            return AppraisalBranchProgress(
                code: code,
                name: name,
                members: members,
                left: left,
                invited: invited,
                voted: voted,
                selfAssessed: assessed,
                representatives: representatives,
                representativesVoted: representativesVoted,
                review: review,
                reviewComment: comment
            )
        }
    }

    /// The branch of the round with this code: its id, name and where its proposals stand.
    public func branch(_ id: UUID, code: String) async throws -> (id: UUID, name: String, review: AppraisalReviewState, comment: String)? {
        try await database.query(
            """
            SELECT b.id, b.name, ab.review, ab.review_comment FROM appraisal_branches ab JOIN branches b ON b.id = ab.branch_id
            WHERE ab.round_id = \(id) AND b.code = \(code)
            """
        ).first.map { try $0.decode((UUID, String, AppraisalReviewState, String).self) }
    }

    /// The codes of the round's branches.
    public func branchCodes(_ id: UUID) async throws -> Set<String> {
        Set(
            try await database.query("SELECT b.code FROM appraisal_branches ab JOIN branches b ON b.id = ab.branch_id WHERE ab.round_id = \(id)")
                .map { try $0.decode(String.self) }
        )
    }

    /// Adds representatives; one already listed for the branch under the same name is kept as
    /// it is. Returns how many were added.
    func addRepresentatives(_ id: UUID, _ rows: [RepresentativeRow], on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var added = 0
        for try await count in try await connection.query(
            """
            WITH added AS (
              INSERT INTO appraisal_representatives (round_id, branch_id, name, phone, party_group)
              SELECT \(id), b.id, r.name, nullif(r.phone, ''), nullif(r.party_group, '')
              FROM unnest(\(rows.map(\.branchCode))::text[], \(rows.map(\.name))::text[], \(rows.map { $0.phone ?? "" })::text[],
                          \(rows.map { $0.partyGroup ?? "" })::text[]) AS r(branch, name, phone, party_group)
              JOIN branches b ON b.code = r.branch
              WHERE NOT EXISTS (
                SELECT 1 FROM appraisal_representatives e WHERE e.round_id = \(id) AND e.branch_id = b.id AND e.name = r.name)
              RETURNING 1
            )
            SELECT count(*)::int FROM added
            """,
            logger: logger
        ).decode(Int.self) { added = count }
        return added
    }

    // MARK: Links

    /// Gives every member appraised (or, before opening, every active member of the round's
    /// branches) and every representative who has none a live link; returns how many.
    func issue(_ id: UUID, status: AppraisalStatus, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var people: [(branch: UUID, member: UUID?, representative: UUID?)] = []
        let members: PostgresQuery =
            status == .open
            ? """
            SELECT am.branch_id, am.member_id, NULL::uuid FROM appraisal_members am
            WHERE am.round_id = \(id) AND am.left_at IS NULL AND NOT EXISTS (
              SELECT 1 FROM appraisal_invitations i WHERE i.round_id = \(id) AND i.member_id = am.member_id AND i.revoked_at IS NULL)
            """
            : """
            SELECT m.branch_id, m.id, NULL::uuid FROM members m JOIN appraisal_branches ab ON ab.branch_id = m.branch_id AND ab.round_id = \(id)
            WHERE m.active AND NOT EXISTS (
              SELECT 1 FROM appraisal_invitations i WHERE i.round_id = \(id) AND i.member_id = m.id AND i.revoked_at IS NULL)
            """
        for try await (branch, member, representative) in try await connection.query(members, logger: logger).decode((UUID, UUID?, UUID?).self) {
            people.append((branch, member, representative))
        }
        for try await (branch, representative) in try await connection.query(
            """
            SELECT r.branch_id, r.id FROM appraisal_representatives r
            WHERE r.round_id = \(id) AND NOT EXISTS (
              SELECT 1 FROM appraisal_invitations i WHERE i.round_id = \(id) AND i.representative_id = r.id AND i.revoked_at IS NULL)
            """,
            logger: logger
        ).decode((UUID, UUID).self) { people.append((branch, nil, representative)) }
        guard !people.isEmpty else { return 0 }
        let ids = people.map { _ in UUID() }
        let hashes = ids.map { ByteBuffer(bytes: InvitationTokens.hash(tokens.token(for: $0))) }
        let shortHashes = ids.map { ByteBuffer(bytes: InvitationTokens.hash(InvitationTokens.normalisedShortCode(tokens.shortCode(for: $0))!)) }
        try await connection.execute(
            """
            INSERT INTO appraisal_invitations (id, round_id, branch_id, member_id, representative_id, token_hash, short_code_hash)
            SELECT i.id, \(id), i.branch, nullif(i.member, '')::uuid, nullif(i.representative, '')::uuid, i.hash, i.short
            FROM unnest(\(ids)::uuid[], \(people.map(\.branch))::uuid[], \(people.map { $0.member?.lowercased ?? "" })::text[],
                        \(people.map { $0.representative?.lowercased ?? "" })::text[],
                        \(hashes)::bytea[], \(shortHashes)::bytea[]) AS i(id, branch, member, representative, hash, short)
            """,
            logger: logger
        )
        return people.count
    }

    /// A live link of the round, as the slips and the CSV for mail merge show it.
    public struct Link: Sendable {
        public let branchCode: String
        public let branchName: String
        /// The member's staff number; empty for a representative.
        public let staffNumber: String
        public let name: String
        public let isRepresentative: Bool
        public let voted: Bool
        public let token: String
        public let shortCode: String
    }

    public func links(_ id: UUID, branchCode: String? = nil) async throws -> [Link] {
        try await database.query(
            """
            SELECT i.id, b.code, b.name, coalesce(m.staff_number, ''), coalesce(m.name, r.name), i.representative_id IS NOT NULL, i.voted
            FROM appraisal_invitations i JOIN branches b ON b.id = i.branch_id
            LEFT JOIN members m ON m.id = i.member_id LEFT JOIN appraisal_representatives r ON r.id = i.representative_id
            WHERE i.round_id = \(id) AND i.revoked_at IS NULL AND (\(branchCode)::text IS NULL OR b.code = \(branchCode))
            ORDER BY b.code, i.representative_id IS NOT NULL, m.staff_number, r.name
            """
        ).map { row in
            let (invitation, code, branch, staff, name, representative, voted) = try row.decode(
                (UUID, String, String, String, String, Bool, Bool).self
            )
            return Link(
                branchCode: code,
                branchName: branch,
                staffNumber: staff,
                name: name,
                isRepresentative: representative,
                voted: voted,
                token: tokens.token(for: invitation),
                shortCode: tokens.shortCode(for: invitation)
            )
        }
    }

    /// The appraisal link a typed short code stands for, if it is a live one.
    public func token(shortCode typed: String) async throws -> String? {
        guard let code = InvitationTokens.normalisedShortCode(typed) else { return nil }
        return try await database.query(
            "SELECT id FROM appraisal_invitations WHERE short_code_hash = \(ByteBuffer(bytes: InvitationTokens.hash(code))) AND revoked_at IS NULL"
        ).first.map { tokens.token(for: try $0.decode(UUID.self)) }
    }

    /// Who holds a link, unless it is unknown or revoked.
    public func voter(token: String) async throws -> AppraisalVoter? {
        guard InvitationTokens.isWellFormed(token) else { return nil }
        let lookup = VoterLookup(tokenHash: ByteBuffer(bytes: InvitationTokens.hash(token)))
        return try await database.withConnection { connection in
            var found: AppraisalVoter?
            for try await voter in try await connection.execute(lookup, logger: Database.quietLogger) { found = voter }
            return found
        }
    }

    /// The link's holder, as a prepared statement: every page of a link starts with it, and
    /// planning its six-table join (3 ms) cost more than running it (0.3 ms); prepared, the
    /// server plans it once per connection.
    struct VoterLookup: PostgresPreparedStatement {
        static let sql = """
            SELECT i.id, i.round_id, i.branch_id, b.name, i.member_id, coalesce(m.name, r.name),
                   CASE WHEN i.member_id IS NULL THEN r.party_group ELSE am.party_group END, i.voted,
                   i.member_id IS NOT NULL AND (am.member_id IS NULL AND ar.status = 'open' OR am.left_at IS NOT NULL)
            FROM appraisal_invitations i JOIN branches b ON b.id = i.branch_id JOIN appraisal_rounds ar ON ar.id = i.round_id
            LEFT JOIN members m ON m.id = i.member_id LEFT JOIN appraisal_representatives r ON r.id = i.representative_id
            LEFT JOIN appraisal_members am ON am.round_id = i.round_id AND am.member_id = i.member_id
            WHERE i.token_hash = $1 AND i.revoked_at IS NULL
            """
        typealias Row = AppraisalVoter

        let tokenHash: ByteBuffer

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(tokenHash)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> AppraisalVoter {
            let (id, round, branch, branchName, member, name, group, voted, left) = try row.decode(
                (UUID, UUID, UUID, String, UUID?, String, String?, Bool, Bool).self
            )
            return AppraisalVoter(
                invitationID: id,
                roundID: round,
                branchID: branch,
                branchName: branchName,
                memberID: member,
                name: name,
                partyGroup: group,
                voted: voted,
                hasLeft: left
            )
        }
    }

    // MARK: Members appraised

    /// The members of one branch appraised in the round, by staff number; with
    /// `partyGroup`, only those of that group (nil: the branch's members without one).
    public func subjects(_ id: UUID, branchID: UUID) async throws -> [AppraisalSubject] {
        try await database.query(
            """
            SELECT am.member_id, m.staff_number, m.name, am.party_group, am.left_at IS NOT NULL
            FROM appraisal_members am JOIN members m ON m.id = am.member_id
            WHERE am.round_id = \(id) AND am.branch_id = \(branchID) ORDER BY m.staff_number
            """
        ).map { row in
            let (member, staff, name, group, left) = try row.decode((UUID, String, String, String?, Bool).self)
            return AppraisalSubject(memberID: member, staffNumber: staff, name: name, partyGroup: group, hasLeft: left)
        }
    }

    /// Every member appraised in the round with their branch's id, by branch and staff number.
    public func allSubjects(_ id: UUID) async throws -> [(branch: UUID, subject: AppraisalSubject)] {
        try await database.query(
            """
            SELECT am.branch_id, am.member_id, m.staff_number, m.name, am.party_group, am.left_at IS NOT NULL
            FROM appraisal_members am JOIN members m ON m.id = am.member_id
            WHERE am.round_id = \(id) ORDER BY am.branch_id, m.staff_number
            """
        ).map { row in
            let (branch, member, staff, name, group, left) = try row.decode((UUID, UUID, String, String, String?, Bool).self)
            return (branch, AppraisalSubject(memberID: member, staffNumber: staff, name: name, partyGroup: group, hasLeft: left))
        }
    }

    /// The round's branches in code order: id, code, name and where their proposals stand.
    public func branches(_ id: UUID) async throws -> [(id: UUID, code: String, name: String, review: AppraisalReviewState)] {
        try await database.query(
            """
            SELECT b.id, b.code, b.name, ab.review FROM appraisal_branches ab JOIN branches b ON b.id = ab.branch_id
            WHERE ab.round_id = \(id) ORDER BY b.code
            """
        ).map { try $0.decode((UUID, String, String, AppraisalReviewState).self) }
    }

    /// Every proposal of the round, by member.
    public func allProposals(_ id: UUID) async throws -> [UUID: StoredProposal] {
        var proposals: [UUID: StoredProposal] = [:]
        for row in try await database.query(
            "SELECT member_id, category, note, explanation, flags FROM appraisal_proposals WHERE round_id = \(id)"
        ) {
            let (member, category, note, explanation, flags) = try row.decode((UUID, String, String, String, [String]).self)
            proposals[member] = StoredProposal(category: category, note: note, explanation: explanation, flags: flags)
        }
        return proposals
    }

    /// A branch's approved appraisals over the years, oldest first: how many of its members
    /// were placed in each category (in each round's categories' order), never who.
    public func branchRecord(code: String) async throws -> [(year: Int, title: String, settings: AppraisalSettings, counts: [Int])] {
        var record: [(year: Int, title: String, settings: AppraisalSettings, counts: [Int])] = []
        for row in try await database.query(
            """
            SELECT r.year, r.title, r.config::text,
                   coalesce((SELECT jsonb_object_agg(c.category, c.n) FROM (
                     SELECT p.category, count(*)::int AS n FROM appraisal_proposals p
                     JOIN appraisal_members am ON am.round_id = p.round_id AND am.member_id = p.member_id
                     WHERE p.round_id = r.id AND am.branch_id = ab.branch_id AND am.left_at IS NULL
                     GROUP BY p.category) c), '{}')::text
            FROM appraisal_branches ab JOIN appraisal_rounds r ON r.id = ab.round_id JOIN branches b ON b.id = ab.branch_id
            WHERE b.code = \(code) AND ab.review = 'approved' AND r.status <> 'cancelled'
            ORDER BY r.year, r.created_at
            """
        ) {
            let (year, title, config, counted) = try row.decode((Int, String, String, String).self)
            let settings = try JSONDecoder().decode(AppraisalSettings.self, from: Data(config.utf8))
            let byKey = try JSONDecoder().decode([String: Int].self, from: Data(counted.utf8))
            record.append((year, title, settings, settings.categories.map { byKey[$0.key] ?? 0 }))
        }
        return record
    }

    // MARK: Self-assessments

    /// Writes (or rewrites) a member's self-assessment. Its own transaction, never a ballot's.
    func saveSelfAssessment(_ id: UUID, memberID: UUID, text: String) async throws -> Bool {
        !(try await database.query(
            """
            INSERT INTO appraisal_self_assessments (round_id, member_id, text, written_on)
            SELECT \(id), \(memberID), \(text), (now() AT TIME ZONE 'Asia/Shanghai')::date FROM appraisal_rounds
            WHERE id = \(id) AND status = 'open' AND (closes_at IS NULL OR closes_at > now())
            ON CONFLICT (round_id, member_id) DO UPDATE SET text = EXCLUDED.text, written_on = EXCLUDED.written_on
            RETURNING 1
            """
        ).isEmpty)
    }

    public func selfAssessment(_ id: UUID, memberID: UUID) async throws -> String? {
        try await database.query("SELECT text FROM appraisal_self_assessments WHERE round_id = \(id) AND member_id = \(memberID)")
            .first?.decode(String.self)
    }

    /// The self-assessments of one branch's members, by member.
    public func selfAssessments(_ id: UUID, branchID: UUID) async throws -> [UUID: String] {
        var texts: [UUID: String] = [:]
        for row in try await database.query(
            """
            SELECT s.member_id, s.text FROM appraisal_self_assessments s
            JOIN appraisal_members am ON am.round_id = s.round_id AND am.member_id = s.member_id
            WHERE s.round_id = \(id) AND am.branch_id = \(branchID)
            """
        ) {
            let (member, text) = try row.decode((UUID, String).self)
            texts[member] = text
        }
        return texts
    }

    // MARK: Ballots

    public enum BallotOutcome: Sendable, Equatable {
        case stored, alreadyStored, alreadyVoted, closed
    }

    /// Claims the form's key, marks the link voted and drops the sealed ballot into the box,
    /// in one statement: all of it or none.
    func storeBallot(_ ballot: AppraisalBallot, voter: AppraisalVoter, submissionKey: String) async throws -> BallotOutcome {
        let sealed = try seal.seal(ballot.encoded(), roundID: voter.roundID, group: AppraisalBallotBox.sealLabel(voter.group))
        let keyHash = ByteBuffer(bytes: Array(SHA256.hash(data: Data(submissionKey.utf8))))
        let rows = try await database.query(
            """
            WITH open_round AS (
              -- The lock makes a ballot sent as the vote closes wait for the close and then find
              -- the round closed, instead of landing in a box that has just been counted.
              SELECT id FROM appraisal_rounds WHERE id = \(voter.roundID) AND status = 'open' AND (closes_at IS NULL OR closes_at > now())
              FOR KEY SHARE
            ), claimed AS (
              INSERT INTO appraisal_submission_keys (key_hash, round_id, used_on)
              SELECT \(keyHash), id, (now() AT TIME ZONE 'Asia/Shanghai')::date FROM open_round
              ON CONFLICT (key_hash) DO NOTHING
              RETURNING 1
            ), burned AS (
              UPDATE appraisal_invitations SET voted = true
              WHERE id = \(voter.invitationID) AND NOT voted AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM claimed)
              RETURNING 1
            ), dropped AS (
              INSERT INTO appraisal_ballot_box (round_id, voter_group, submitted_on, sealed)
              SELECT \(voter.roundID), \(voter.group.rawValue), (now() AT TIME ZONE 'Asia/Shanghai')::date, \(ByteBuffer(bytes: sealed))
              WHERE EXISTS (SELECT 1 FROM burned)
              RETURNING 1
            )
            SELECT EXISTS (SELECT 1 FROM open_round), EXISTS (SELECT 1 FROM claimed), EXISTS (SELECT 1 FROM dropped)
            """
        )
        guard let row = rows.first else { return .closed }
        let (open, claimed, dropped) = try row.decode((Bool, Bool, Bool).self)
        if !open { return .closed }
        if !claimed { return .alreadyStored }
        return dropped ? .stored : .alreadyVoted
    }

    /// How many ballots wait in the box (progress only: they tell nothing of any vote).
    public func waiting(_ id: UUID) async throws -> Int {
        try await database.query("SELECT count(*)::int FROM appraisal_ballot_box WHERE round_id = \(id)").first!.decode(Int.self)
    }

    // MARK: Tallies

    /// The counts of one branch's members (or of every branch's, without `branchID`), by member.
    public func tallies(_ id: UUID, branchID: UUID? = nil, settings: AppraisalSettings) async throws -> [UUID: AppraisalTally] {
        var tallies: [UUID: AppraisalTally] = [:]
        let count = settings.categories.count
        for row in try await database.query(
            """
            SELECT v.member_id, v.voter_group, v.category, v.votes FROM appraisal_votes v
            JOIN appraisal_members am ON am.round_id = v.round_id AND am.member_id = v.member_id
            WHERE v.round_id = \(id) AND (\(branchID)::uuid IS NULL OR am.branch_id = \(branchID))
            """
        ) {
            let (member, group, category, votes) = try row.decode((UUID, String, String, Int).self)
            guard let group = AppraisalVoterGroup(rawValue: group) else { continue }
            let index = settings.index(of: category)
            // A key the settings do not know is not counted as an abstention either.
            guard index != nil || category == AppraisalSettings.abstain else { continue }
            tallies[member, default: AppraisalTally()].add(votes, group: group, category: index, categories: count)
        }
        return tallies
    }

    // MARK: Proposals

    public struct StoredProposal: Sendable, Equatable {
        public let category: String
        public let note: String
        public let explanation: String
        public let flags: [String]
    }

    public func proposals(_ id: UUID, branchID: UUID) async throws -> [UUID: StoredProposal] {
        var proposals: [UUID: StoredProposal] = [:]
        for row in try await database.query(
            """
            SELECT p.member_id, p.category, p.note, p.explanation, p.flags FROM appraisal_proposals p
            JOIN appraisal_members am ON am.round_id = p.round_id AND am.member_id = p.member_id
            WHERE p.round_id = \(id) AND am.branch_id = \(branchID)
            """
        ) {
            let (member, category, note, explanation, flags) = try row.decode((UUID, String, String, String, [String]).self)
            proposals[member] = StoredProposal(category: category, note: note, explanation: explanation, flags: flags)
        }
        return proposals
    }

    func saveProposals(
        _ id: UUID,
        proposals: [(member: UUID, proposal: StoredProposal)],
        by user: UUID?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !proposals.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO appraisal_proposals (round_id, member_id, category, note, explanation, flags, proposed_by)
            SELECT \(id), p.member, p.category, p.note, p.explanation,
                   coalesce(string_to_array(nullif(p.flags, ''), ','), '{}'), \(user)
            FROM unnest(\(proposals.map(\.member))::uuid[], \(proposals.map(\.proposal.category))::text[], \(proposals.map(\.proposal.note))::text[],
                        \(proposals.map(\.proposal.explanation))::text[], \(proposals.map { $0.proposal.flags.joined(separator: ",") })::text[])
              AS p(member, category, note, explanation, flags)
            ON CONFLICT (round_id, member_id) DO UPDATE SET category = EXCLUDED.category, note = EXCLUDED.note,
              explanation = EXCLUDED.explanation, flags = EXCLUDED.flags, proposed_by = EXCLUDED.proposed_by, proposed_at = now()
            """,
            logger: logger
        )
    }

    /// Locks a branch of the round and reads where its proposals stand.
    static func lockedReview(_ id: UUID, branchID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> AppraisalReviewState {
        var state: AppraisalReviewState?
        for try await value in try await connection.query(
            "SELECT review FROM appraisal_branches WHERE round_id = \(id) AND branch_id = \(branchID) FOR UPDATE",
            logger: logger
        ).decode(AppraisalReviewState.self) { state = value }
        guard let state else { throw RoundError.notFound }
        return state
    }

    func setReview(
        _ id: UUID,
        branchID: UUID,
        to state: AppraisalReviewState,
        comment: String,
        by user: UUID?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let submitted = state == .submitted
        try await connection.execute(
            """
            UPDATE appraisal_branches SET review = \(state), review_comment = \(comment),
              submitted_at = CASE WHEN \(submitted) THEN now() ELSE submitted_at END,
              submitted_by = CASE WHEN \(submitted) THEN \(user) ELSE submitted_by END,
              reviewed_at = CASE WHEN \(submitted) THEN reviewed_at ELSE now() END,
              reviewed_by = CASE WHEN \(submitted) THEN reviewed_by ELSE \(user) END
            WHERE round_id = \(id) AND branch_id = \(branchID)
            """,
            logger: logger
        )
    }

    /// A member's own category and the committee's note, once their branch is approved.
    public func ownResult(_ id: UUID, memberID: UUID) async throws -> StoredProposal? {
        try await database.query(
            """
            SELECT p.category, p.note, p.explanation, p.flags FROM appraisal_proposals p
            JOIN appraisal_members am ON am.round_id = p.round_id AND am.member_id = p.member_id
            JOIN appraisal_branches ab ON ab.round_id = p.round_id AND ab.branch_id = am.branch_id
            WHERE p.round_id = \(id) AND p.member_id = \(memberID) AND ab.review = 'approved'
            """
        ).first.map { row in
            let (category, note, explanation, flags) = try row.decode((String, String, String, [String]).self)
            return StoredProposal(category: category, note: note, explanation: explanation, flags: flags)
        }
    }
}
