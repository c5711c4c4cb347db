import Crypto
import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// An objection (异议) to a round's published results, as its filer and the administrators see it.
public struct Objection: Sendable {
    public let id: UUID
    public let roundID: UUID
    public let receipt: String
    public let branchCode: String
    public let branchName: String
    public let body: String
    public let contactName: String?
    public let contactPhone: String?
    /// The signed-in secretary who filed it; `nil` for one filed through the public page.
    public let filedBy: String?
    public let filedAt: Date
    public let assignedTo: String?
    public let reply: String?
    public let repliedAt: Date?
    public let decision: Decision?
    public let decidedAt: Date?

    public enum Decision: String, Sendable, CaseIterable {
        case notUpheld = "not-upheld"
        case upheld
    }

    /// Filed through the public page without a name.
    public var anonymous: Bool { filedBy == nil && (contactName ?? "").isEmpty }
}

/// What someone filing an objection typed.
public struct ObjectionDraft: Sendable {
    public var branchCode: String
    public var body: String
    public var contactName: String
    public var contactPhone: String
    /// The form's one-time key: a resent form finds the objection it stored.
    public var submissionKey: String

    public init(branchCode: String, body: String, contactName: String = "", contactPhone: String = "", submissionKey: String) {
        self.branchCode = branchCode
        self.body = body
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.submissionKey = submissionKey
    }

    /// The longest objection taken, in characters.
    public static let longest = 5000

    public enum Problem: String, Error, Sendable, CaseIterable {
        case branchMissing = "branch-missing"
        case bodyMissing = "body-missing"
        case bodyTooLong = "body-too-long"
        case nameTooLong = "name-too-long"
        case phoneUnreadable = "phone-unreadable"
    }

    /// Everything wrong with it, so that the page marks every field at once.
    public func problems(branchCodes: Set<String>) -> [Problem] {
        var problems: [Problem] = []
        if !branchCodes.contains(branchCode) { problems.append(.branchMissing) }
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { problems.append(.bodyMissing) }
        if text.count > Self.longest { problems.append(.bodyTooLong) }
        if contactName.trimmingCharacters(in: .whitespaces).count > 100 { problems.append(.nameTooLong) }
        let phone = contactPhone.trimmingCharacters(in: .whitespaces)
        if !phone.isEmpty && (phone.count > 40 || !phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+- ()".contains($0)) })) {
            problems.append(.phoneUnreadable)
        }
        return problems
    }
}

/// What filing gives back: the receipt to quote and the link's secret to follow it. A resent
/// form gives the receipt again but no secret (only its hash is kept), and says so.
public struct FiledObjection: Sendable {
    public let id: UUID
    public let receipt: String
    /// The status link's secret: the same for the same form sent again.
    public let statusKey: String
    /// The form had been sent before; nothing more was stored.
    public let resent: Bool
}

/// Objections from filing to decision. Filing is open to anyone while the round's publicity
/// runs; handling (assigning, replying, deciding) is the administrators'. Each step is one
/// transaction with its audit entry.
public struct ObjectionService: Sendable {
    let database: Database
    /// Derives each objection's status link from its form's submission key.
    let tokens: InvitationTokens

    public init(database: Database, tokens: InvitationTokens) {
        self.database = database
        self.tokens = tokens
    }

    public enum Refusal: Error, Equatable {
        /// The round is not in publicity, or its period is over.
        case notTakingObjections
        case problems([ObjectionDraft.Problem])
    }

    /// Files an objection to a round in publicity. `filer` is the signed-in secretary, if any.
    public func file(_ draft: ObjectionDraft, round id: UUID, filer: AuditActor?, logger: Logger, now: Date = .now) async throws -> FiledObjection {
        let codes = try await branchCodes(round: id)
        let problems = draft.problems(branchCodes: Set(codes.map(\.code)))
        guard problems.isEmpty else { throw Refusal.problems(problems) }
        let statusKey = tokens.objectionStatusKey(submissionKey: draft.submissionKey)
        let name = draft.contactName.trimmingCharacters(in: .whitespaces)
        let phone = draft.contactPhone.trimmingCharacters(in: .whitespaces)
        let body = draft.body.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await database.transaction(logger: logger) { connection in
            // Locked shared, so that the period cannot end or the round change under the filing.
            var taking = false
            var year = 0
            for try await (status, ends, ended, roundYear) in try await connection.query(
                "SELECT status, publicity_ends_at, publicity_ended_at IS NOT NULL, year FROM rounds WHERE id = \(id) FOR SHARE",
                logger: logger
            ).decode((RoundStatus, Date?, Bool, Int).self) {
                taking = status == .publicity && !ended && (ends.map { now < $0 } ?? false)
                year = roundYear
            }
            // A resent form finds what it stored, even once the period is over.
            for try await (existing, receipt) in try await connection.query(
                "SELECT id, receipt FROM objections WHERE submission_key = \(draft.submissionKey) AND round_id = \(id)",
                logger: logger
            ).decode((UUID, String).self) {
                return FiledObjection(id: existing, receipt: receipt, statusKey: statusKey, resent: true)
            }
            guard taking else { throw Refusal.notTakingObjections }
            var stored: (UUID, String)?
            // A receipt is short enough to read out on the phone; a clash is drawn again.
            for _ in 0..<5 where stored == nil {
                let receipt = Self.receipt(year: year)
                for try await row in try await connection.query(
                    """
                    INSERT INTO objections (round_id, branch_id, receipt, status_key_hash, submission_key, body, contact_name, contact_phone, filed_by)
                    SELECT \(id), b.id, \(receipt), \(Self.hash(statusKey)), \(draft.submissionKey), \(body), NULLIF(\(name), ''),
                      NULLIF(\(phone), ''), \(filer?.userID)
                    FROM branches b WHERE b.code = \(draft.branchCode)
                    ON CONFLICT (receipt) DO NOTHING
                    RETURNING id, receipt
                    """,
                    logger: logger
                ).decode((UUID, String).self) { stored = row }
            }
            guard let (objection, receipt) = stored else { throw Refusal.notTakingObjections }
            try await AuditLog.record(
                .init(
                    action: "objection.filed",
                    actor: filer ?? AuditActor(userID: nil, name: "public"),
                    subject: objection.lowercased,
                    details: ["round": id.lowercased, "branch": draft.branchCode, "receipt": receipt]
                ),
                on: connection,
                logger: logger
            )
            return FiledObjection(id: objection, receipt: receipt, statusKey: statusKey, resent: false)
        }
    }

    /// What a form with this submission key filed already, if it did: its receipt and link.
    public func filed(submissionKey: String, round id: UUID) async throws -> FiledObjection? {
        guard
            let (existing, receipt) = try await database.query(
                "SELECT id, receipt FROM objections WHERE submission_key = \(submissionKey) AND round_id = \(id)"
            ).first?.decode((UUID, String).self)
        else { return nil }
        return FiledObjection(id: existing, receipt: receipt, statusKey: tokens.objectionStatusKey(submissionKey: submissionKey), resent: true)
    }

    /// The round's branches a person may object to, by code, with their names.
    public func branchCodes(round id: UUID) async throws -> [(code: String, name: String)] {
        try await database.query(
            "SELECT b.code, b.name FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(id) ORDER BY b.code"
        ).map { try $0.decode((String, String).self) }
    }

    // MARK: Reading

    private static let columns = """
        o.id, o.round_id, o.receipt, b.code, b.name, o.body, o.contact_name, o.contact_phone, f.username, o.filed_at,
        a.username, o.reply, o.replied_at, o.decision, o.decided_at
        FROM objections o JOIN branches b ON b.id = o.branch_id
        LEFT JOIN users f ON f.id = o.filed_by LEFT JOIN users a ON a.id = o.assigned_to
        """

    /// The objection whose status link holds `statusKey`.
    public func objection(statusKey: String) async throws -> Objection? {
        try await database.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) WHERE o.status_key_hash = $1", binds: try Self.binds(Self.hash(statusKey)))
        )
        .first.map(Self.objection)
    }

    public func objection(_ id: UUID) async throws -> Objection? {
        try await database.query(PostgresQuery(unsafeSQL: "SELECT \(Self.columns) WHERE o.id = $1", binds: try Self.binds(id))).first.map(
            Self.objection
        )
    }

    /// A round's objections, open ones first, each group oldest first.
    public func list(round id: UUID) async throws -> [Objection] {
        try await database.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) WHERE o.round_id = $1 ORDER BY o.decision IS NOT NULL, o.filed_at, o.receipt",
                binds: try Self.binds(id)
            )
        ).map(Self.objection)
    }

    /// The objections a branch's secretary filed, or filed about their branch, in a round.
    public func list(round id: UUID, branchCode: String) async throws -> [Objection] {
        var binds = try Self.binds(id)
        try binds.append(branchCode)
        return try await database.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) WHERE o.round_id = $1 AND b.code = $2 ORDER BY o.decision IS NOT NULL, o.filed_at, o.receipt",
                binds: binds
            )
        ).map(Self.objection)
    }

    private static func binds(_ value: some PostgresEncodable & Sendable) throws -> PostgresBindings {
        var binds = PostgresBindings()
        try binds.append(value)
        return binds
    }

    private static func objection(_ row: PostgresRow) throws -> Objection {
        var cells = RowCells(row)
        return Objection(
            id: try cells.next(UUID.self),
            roundID: try cells.next(UUID.self),
            receipt: try cells.next(String.self),
            branchCode: try cells.next(String.self),
            branchName: try cells.next(String.self),
            body: try cells.next(String.self),
            contactName: try cells.next(String?.self),
            contactPhone: try cells.next(String?.self),
            filedBy: try cells.next(String?.self),
            filedAt: try cells.next(Date.self),
            assignedTo: try cells.next(String?.self),
            reply: try cells.next(String?.self),
            repliedAt: try cells.next(Date?.self),
            decision: try cells.next(String?.self).flatMap(Objection.Decision.init(rawValue:)),
            decidedAt: try cells.next(Date?.self)
        )
    }

    // MARK: Handling

    public enum HandlingProblem: Error, Equatable {
        case notFound
        case unknownAdministrator(String)
        case replyMissing
        case replyTooLong
        /// A decided objection stays decided; its reply can still be added to.
        case decided
    }

    /// Gives the objection to an administrator to look into.
    public func assign(_ id: UUID, to username: String, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            var assignee: UUID?
            for try await user in try await connection.query(
                "SELECT id FROM users WHERE lower(username) = lower(\(username)) AND role = 'admin' AND active",
                logger: logger
            ).decode(UUID.self) { assignee = user }
            guard let assignee else { throw HandlingProblem.unknownAdministrator(username) }
            guard try await connection.updated("UPDATE objections SET assigned_to = \(assignee) WHERE id = \(id) RETURNING 1", logger: logger) else {
                throw HandlingProblem.notFound
            }
            try await AuditLog.record(
                .init(action: "objection.assigned", actor: actor, subject: id.lowercased, details: ["to": username]),
                on: connection,
                logger: logger
            )
        }
    }

    /// The reply its filer reads through the receipt link; a later reply replaces it, and the
    /// audit log keeps each.
    public func reply(_ id: UUID, text: String, actor: AuditActor, logger: Logger) async throws {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw HandlingProblem.replyMissing }
        guard text.count <= ObjectionDraft.longest else { throw HandlingProblem.replyTooLong }
        try await database.transaction(logger: logger) { connection in
            guard
                try await connection.updated("UPDATE objections SET reply = \(text), replied_at = now() WHERE id = \(id) RETURNING 1", logger: logger)
            else { throw HandlingProblem.notFound }
            try await AuditLog.record(
                .init(action: "objection.replied", actor: actor, subject: id.lowercased, details: ["reply": text]),
                on: connection,
                logger: logger
            )
        }
    }

    /// Decides the objection: not upheld, or upheld (its corrections are made on their own and
    /// name it). A reply given with the decision is stored with it.
    public func decide(_ id: UUID, _ decision: Objection.Decision, reply: String? = nil, actor: AuditActor, logger: Logger) async throws {
        let reply = reply?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reply, reply.count > ObjectionDraft.longest { throw HandlingProblem.replyTooLong }
        try await database.transaction(logger: logger) { connection in
            var current: String??
            for try await value in try await connection.query(
                "SELECT decision FROM objections WHERE id = \(id) FOR UPDATE",
                logger: logger
            ).decode(String?.self) { current = .some(value) }
            guard let current else { throw HandlingProblem.notFound }
            guard current == nil else { throw HandlingProblem.decided }
            try await connection.execute(
                """
                UPDATE objections SET decision = \(decision.rawValue), decided_at = now(), decided_by = \(actor.userID),
                  reply = coalesce(NULLIF(\(reply ?? ""), ''), reply),
                  replied_at = CASE WHEN NULLIF(\(reply ?? ""), '') IS NULL THEN replied_at ELSE now() END
                WHERE id = \(id)
                """,
                logger: logger
            )
            var details = ["decision": decision.rawValue]
            if let reply, !reply.isEmpty { details["reply"] = reply }
            try await AuditLog.record(
                .init(action: "objection.decided", actor: actor, subject: id.lowercased, details: details),
                on: connection,
                logger: logger
            )
        }
    }

    // MARK: Receipts

    /// "2026-K7Q2M9": the year and six characters without look-alikes (no 0/O, 1/I/L).
    static func receipt(year: Int) -> String {
        let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
        var generator = SystemRandomNumberGenerator()
        return "\(year)-" + String((0..<6).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func hash(_ key: String) -> String {
        Hex.string(SHA256.hash(data: Data(key.utf8)))
    }
}

extension PostgresConnection {
    /// Runs an UPDATE … RETURNING 1 and says whether it changed a row.
    func updated(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await returnsRows(query, logger: logger)
    }

    /// Runs a statement and says whether it returned any row.
    func returnsRows(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        var any = false
        for try await _ in try await self.query(query, logger: logger) { any = true }
        return any
    }
}
