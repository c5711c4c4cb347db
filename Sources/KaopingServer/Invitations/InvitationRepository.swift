import Foundation
import Logging
import PostgresNIO

/// A member's link to answer, as administrators hand it out.
public struct InvitationLink: Sendable {
    public let branchCode: String
    public let branchName: String
    public let staffNumber: String
    public let memberName: String
    public let used: Bool
    public let token: String
    /// The code to type instead (`shortCode(for:)`), shown on the slips; nil while its hash is
    /// not stored (an invitation issued before codes were stored with it), since typing it would
    /// find nothing.
    public let shortCode: String?
}

/// What a token leads to.
public struct InvitationTarget: Sendable {
    public let roundID: UUID
    public let branchID: UUID
    public let used: Bool
}

/// Member invitations: one live token per member and round, stored only as a hash.
public struct InvitationRepository: Sendable {
    let database: Database
    let tokens: InvitationTokens
    /// Where the links opened in the last hour lead. A member opens the form, then sends it
    /// minutes later; the round and branch of an invitation never change, and whether it is
    /// still unused is checked again by the statement that stores the answers, so the post
    /// needs no lookup of its own.
    let opened = TimedCache<String, InvitationTarget>(lifetime: .seconds(3600), capacity: 200_000)

    public init(database: Database, tokens: InvitationTokens) {
        self.database = database
        self.tokens = tokens
    }

    /// Gives every active member of the round's branches who has none a live invitation, with
    /// the hash of its short code, and stores the missing short codes of the round's older
    /// invitations. Returns how many were issued; running it again issues only the missing ones.
    func issue(roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        // One issuer at a time per round, so that two clicks cannot issue twice.
        try await connection.execute("SELECT 1 FROM rounds WHERE id = \(roundID) FOR UPDATE", logger: logger)
        var members: [(UUID, UUID)] = []
        for try await (member, branch) in try await connection.query(
            """
            SELECT m.id, m.branch_id FROM members m
            JOIN round_branches rb ON rb.branch_id = m.branch_id AND rb.round_id = \(roundID)
            WHERE m.active AND NOT EXISTS (
              SELECT 1 FROM invitations i WHERE i.round_id = \(roundID) AND i.member_id = m.id AND i.revoked_at IS NULL)
            """,
            logger: logger
        ).decode((UUID, UUID).self) { members.append((member, branch)) }
        try await storeShortCodes(roundID: roundID, on: connection, logger: logger)
        guard !members.isEmpty else { return 0 }
        let ids = members.map { _ in UUID() }
        let hashes = ids.map { Self.hex(InvitationTokens.hash(tokens.token(for: $0))) }
        let shortHashes = ids.map { Self.hex(shortCodeHash(for: $0)) }
        try await connection.execute(
            """
            INSERT INTO invitations (id, round_id, branch_id, member_id, token_hash, short_code_hash)
            SELECT i.id, \(roundID), i.branch, i.member, decode(i.hash, 'hex'), decode(i.short, 'hex')
            FROM unnest(\(ids)::uuid[], \(members.map(\.1))::uuid[], \(members.map(\.0))::uuid[], \(hashes)::text[], \(shortHashes)::text[])
              AS i(id, branch, member, hash, short)
            """,
            logger: logger
        )
        return members.count
    }

    /// Stores the short codes' hashes of the round's live invitations that have none: those
    /// issued before the hash was stored with each invitation (it was stored when the slips were
    /// first printed, a write on a page's GET). Issuing again fills them in.
    private func storeShortCodes(roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        var missing: [UUID] = []
        for try await id in try await connection.query(
            "SELECT id FROM invitations WHERE round_id = \(roundID) AND revoked_at IS NULL AND short_code_hash IS NULL",
            logger: logger
        ).decode(UUID.self) { missing.append(id) }
        guard !missing.isEmpty else { return }
        let hashes = missing.map { ByteBuffer(bytes: shortCodeHash(for: $0)) }
        try await connection.execute(
            """
            UPDATE invitations i SET short_code_hash = c.hash
            FROM unnest(\(missing)::uuid[], \(hashes)::bytea[]) AS c(id, hash)
            WHERE i.id = c.id AND i.short_code_hash IS NULL
            """,
            logger: logger
        )
    }

    /// What is stored of an invitation's short code, to find it when typed.
    func shortCodeHash(for invitation: UUID) -> [UInt8] {
        InvitationTokens.hash(InvitationTokens.normalisedShortCode(tokens.shortCode(for: invitation))!)
    }

    /// Revokes a member's live invitation and issues a new one; the old link stops working.
    func reissue(roundID: UUID, staffNumber: String, on connection: PostgresConnection, logger: Logger) async throws -> String? {
        let id = UUID()
        let hash = Self.hex(InvitationTokens.hash(tokens.token(for: id)))
        let shortHash = Self.hex(shortCodeHash(for: id))
        try await connection.execute(
            """
            UPDATE invitations SET revoked_at = now()
            WHERE round_id = \(roundID) AND revoked_at IS NULL AND NOT used
              AND member_id = (SELECT id FROM members WHERE staff_number = \(staffNumber))
            """,
            logger: logger
        )
        var inserted = false
        for try await _ in try await connection.query(
            """
            INSERT INTO invitations (id, round_id, branch_id, member_id, token_hash, short_code_hash)
            SELECT \(id), \(roundID), m.branch_id, m.id, decode(\(hash), 'hex'), decode(\(shortHash), 'hex')
            FROM members m JOIN round_branches rb ON rb.branch_id = m.branch_id AND rb.round_id = \(roundID)
            WHERE m.staff_number = \(staffNumber) AND m.active
              AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.round_id = \(roundID) AND i.member_id = m.id AND i.used)
            RETURNING 1
            """,
            logger: logger
        ) { inserted = true }
        return inserted ? tokens.token(for: id) : nil
    }

    /// Every live invitation of a round with its link token, by branch and staff number.
    public func links(roundID: UUID, branchCode: String? = nil) async throws -> [InvitationLink] {
        try await database.query(
            """
            SELECT i.id, b.code, b.name, m.staff_number, m.name, i.used, i.short_code_hash IS NOT NULL
            FROM invitations i JOIN branches b ON b.id = i.branch_id JOIN members m ON m.id = i.member_id
            WHERE i.round_id = \(roundID) AND i.revoked_at IS NULL AND (\(branchCode)::text IS NULL OR b.code = \(branchCode))
            ORDER BY b.code, m.staff_number
            """
        ).map { row in
            let (id, code, name, staff, member, used, typable) = try row.decode((UUID, String, String, String, String, Bool, Bool).self)
            return InvitationLink(
                branchCode: code,
                branchName: name,
                staffNumber: staff,
                memberName: member,
                used: used,
                token: tokens.token(for: id),
                shortCode: typable ? tokens.shortCode(for: id) : nil
            )
        }
    }

    /// The invitation link a typed short code stands for, if it is a live one.
    public func token(shortCode typed: String) async throws -> String? {
        guard let code = InvitationTokens.normalisedShortCode(typed) else { return nil }
        let hash = InvitationTokens.hash(code)
        return try await database.query(
            "SELECT id FROM invitations WHERE short_code_hash = \(ByteBuffer(bytes: hash)) AND revoked_at IS NULL"
        ).first.map { tokens.token(for: try $0.decode(UUID.self)) }
    }

    public struct PendingMember: Sendable {
        public let branchCode: String
        public let branchName: String
        public let staffNumber: String
        public let name: String
        public let phone: String?
    }

    /// Members whose live invitation is unused.
    public func pending(roundID: UUID) async throws -> [PendingMember] {
        try await database.query(
            """
            SELECT b.code, b.name, m.staff_number, m.name, m.phone
            FROM invitations i JOIN branches b ON b.id = i.branch_id JOIN members m ON m.id = i.member_id
            WHERE i.round_id = \(roundID) AND i.revoked_at IS NULL AND NOT i.used
            ORDER BY b.code, m.staff_number
            """
        ).map { row in
            let (code, branch, staff, name, phone) = try row.decode((String, String, String, String, String?).self)
            return PendingMember(branchCode: code, branchName: branch, staffNumber: staff, name: name, phone: phone)
        }
    }

    public func pendingCount(roundID: UUID) async throws -> Int {
        try await database.query(
            "SELECT count(*)::int FROM invitations WHERE round_id = \(roundID) AND revoked_at IS NULL AND NOT used"
        ).first!.decode(Int.self)
    }

    /// The invitation behind a token, unless it is unknown or revoked.
    public func resolve(token: String) async throws -> InvitationTarget? {
        guard InvitationTokens.isWellFormed(token) else { return nil }
        let hash = ByteBuffer(bytes: InvitationTokens.hash(token))
        guard
            let row = try await database.query(
                "SELECT round_id, branch_id, used FROM invitations WHERE token_hash = \(hash) AND revoked_at IS NULL"
            ).first
        else { return nil }
        let (round, branch, used) = try row.decode((UUID, UUID, Bool).self)
        let target = InvitationTarget(roundID: round, branchID: branch, used: used)
        if !used { opened.store(target, for: token) }
        return target
    }

    /// The invitation behind a token whose answers are arriving: the target the form was
    /// shown for, if it was shown recently, else looked up. Used and revoked links are refused
    /// by `storeBallot` in either case.
    public func resolveForSubmission(token: String) async throws -> InvitationTarget? {
        if let target = opened.value(for: token) { return target }
        return try await resolve(token: token)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        Hex.string(bytes)
    }
}
