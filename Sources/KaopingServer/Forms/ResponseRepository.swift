import Crypto
import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// Who is answering about what: a round, a rater group and a branch.
public struct RespondentTarget: Sendable, Equatable {
    public enum RaterGroup: String, Sendable, CaseIterable {
        case organisation, members, `public`
    }

    public let roundID: UUID
    public let roundTitle: String
    public let roundOpen: Bool
    public let group: RaterGroup
    public let branchID: UUID
    public let branchName: String
    public let formVersionID: UUID
    /// When the round stops taking answers, which the form tells the respondent.
    public var closesAt: Date? = nil
}

/// One validated submission, ready to be stored.
public struct SubmissionRecord: Sendable {
    public let target: RespondentTarget
    /// The key the rendered form carried; a second post with it stores nothing.
    public let submissionKey: String
    public let answers: [String: Answer]
    public let score: ResponseScore
    public let form: FormDefinition
}

public enum StoreOutcome: Sendable, Equatable {
    case stored
    /// The submission key was used before: a retry or a double click.
    case alreadyStored
    /// The round closed between showing the form and receiving it: nothing is stored.
    case roundClosed
    /// The invitation or visit code was used already (from another page): nothing is stored.
    case invitationUsed
    /// The branch has as many public responses as the round accepts.
    case capReached
}

public struct ResponseRepository: Sendable {
    let database: Database
    /// Ballots are sealed before they leave the server (`BallotSeal`).
    let seal: BallotSeal
    /// Targets are looked up for every page shown and every answer received; they change only
    /// when a round opens or closes, so a lookup is reused for a moment. Whether the round is
    /// still open is checked again, in the database, by the statement that stores an answer.
    let targets: TimedCache<String, RespondentTarget?>

    /// Member ballots are written in batches (`BallotBatcher`).
    let memberBallots: BallotBatcher<MemberBallot, StoreOutcome>

    public init(database: Database, seal: BallotSeal, targetLifetime: Duration = .seconds(2), ballotWriters: Int = 2) {
        self.database = database
        self.seal = seal
        self.memberBallots = BallotBatcher(
            writers: ballotWriters,
            largestBatch: 64,
            keys: { ["key:" + Hex.string($0.keyHash), "link:" + Hex.string($0.tokenHash)] },
            write: { batch in try await Self.storeMemberBallots(batch, database: database) }
        )
        self.targets = TimedCache(lifetime: targetLifetime)
    }

    public func target(roundID: UUID, group: RespondentTarget.RaterGroup, branchID: UUID) async throws -> RespondentTarget? {
        let key = "\(roundID)/\(group.rawValue)/\(branchID)"
        if let cached = targets.value(for: key) { return cached }
        let target: RespondentTarget?
        do {
            target = try await lookUpTarget(roundID: roundID, group: group, branchID: branchID)
        } catch  where DatabaseFailure.isUnavailable(error) {
            // With the database away, the last known target lets a respondent's answers come back
            // to them on their form; whether the round takes them is decided when they are stored.
            if let stale = targets.staleValue(for: key) { return stale }
            throw error
        }
        targets.store(target, for: key)
        return target
    }

    /// Counts a public answer turned away, for the round page.
    public func countPublicRefusal(roundID: UUID, branchID: UUID) async throws {
        try await database.query(
            "UPDATE round_branches SET public_refusals = public_refusals + 1 WHERE round_id = \(roundID) AND branch_id = \(branchID)"
        )
    }

    public func schedule(roundID: UUID) async throws -> (opensAt: Date?, closedAt: Date?) {
        guard
            let row = try await database.query(
                """
                SELECT CASE WHEN status IN (\(RoundStatus.draft), \(RoundStatus.scheduled)) THEN opens_at END, coalesce(closed_at, closes_at)
                FROM rounds WHERE id = \(roundID)
                """
            ).first
        else { return (nil, nil) }
        return try row.decode((Date?, Date?).self)
    }

    /// The round and branch behind a public link, how the branch takes public answers, and
    /// whether it answers from a shared device (one browser may then answer again).
    public func publicTarget(code: String) async throws -> (target: RespondentTarget, access: PublicAccess, sharedDevice: Bool)? {
        guard code.count <= 32, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        guard
            let row = try await database.query(
                "SELECT round_id, branch_id, public_access, shared_device FROM round_branches WHERE public_code = \(code)"
            ).first
        else { return nil }
        let (round, branch, access, shared) = try row.decode((UUID, UUID, String, Bool).self)
        guard let target = try await target(roundID: round, group: .public, branchID: branch) else { return nil }
        return (target, PublicAccess(rawValue: access) ?? .link, shared)
    }

    public func storeVisitBallot(_ record: SubmissionRecord, visitCode: String, logger: Logger) async throws -> StoreOutcome {
        try await storePublic(record, visitCode: visitCode, repeatedDevice: false, logger: logger)
    }

    /// A public answer through a branch's link. `fromRepeatedDevice`: the browser had answered
    /// this link before, which a branch marked as answering from a shared device allows; the
    /// branch's count of such answers grows in the same statement, and nothing on the ballot says so.
    public func storePublicBallot(_ record: SubmissionRecord, fromRepeatedDevice: Bool = false, logger: Logger) async throws -> StoreOutcome {
        try await storePublic(record, visitCode: nil, repeatedDevice: fromRepeatedDevice, logger: logger)
    }

    /// One statement for a public answer: the round is open, the branch has room under its cap,
    /// the submission key is claimed, the visit code (if the answer came with one) is burned,
    /// and the ballot dropped into the box; all of it or none.
    ///
    /// A branch with a cap is locked first, in the same transaction: the statement counts the
    /// ballots in its own snapshot, so two answers counted at once would both see room for one.
    /// After the lock, the statement's snapshot includes every answer committed before it.
    /// Branches without a cap take no lock.
    private func storePublic(_ record: SubmissionRecord, visitCode: String?, repeatedDevice: Bool, logger: Logger) async throws -> StoreOutcome {
        let target = record.target
        let ballot = ByteBuffer(
            bytes: try seal.seal(BallotContent(record).encoded(), roundID: target.roundID, group: RoundConfiguration.RaterGroup.public.rawValue)
        )
        let codeHash = visitCode.map { ByteBuffer(bytes: InvitationTokens.hash($0)) }
        let counts = try await database.transaction(logger: logger) { connection -> (Int, Int, Int, Int) in
            try await connection.execute(
                """
                SELECT 1 FROM round_branches
                WHERE round_id = \(target.roundID) AND branch_id = \(target.branchID) AND public_cap IS NOT NULL
                FOR UPDATE
                """,
                logger: logger
            )
            var counts = (0, 0, 0, 0)
            for try await row in try await connection.query(
                """
                WITH open_round AS (
                  SELECT 1 FROM rounds
                  WHERE id = \(target.roundID) AND status = \(RoundStatus.open) AND (closes_at IS NULL OR closes_at > now())
                  FOR KEY SHARE
                ), room AS (
                  SELECT 1 FROM round_branches rb
                  WHERE rb.round_id = \(target.roundID) AND rb.branch_id = \(target.branchID)
                    AND (rb.public_cap IS NULL OR rb.public_cap >
                         (SELECT count(*) FROM responses WHERE round_id = rb.round_id AND branch_id = rb.branch_id AND rater_group = 'public')
                       + (SELECT count(*) FROM ballot_box WHERE round_id = rb.round_id AND branch_id = rb.branch_id AND rater_group = 'public'))
                ), claimed AS (
                  INSERT INTO submission_keys (key_hash, round_id, used_on)
                  SELECT sha256(convert_to(\(record.submissionKey), 'UTF8')), \(target.roundID), (now() AT TIME ZONE 'Asia/Shanghai')::date
                  FROM open_round, room
                  ON CONFLICT (key_hash) DO NOTHING
                  RETURNING 1
                ), burned AS (
                  UPDATE visit_codes SET used = true
                  WHERE \(codeHash)::bytea IS NOT NULL AND code_hash = \(codeHash)::bytea
                    AND round_id = \(target.roundID) AND branch_id = \(target.branchID) AND NOT used
                    AND EXISTS (SELECT 1 FROM claimed)
                  RETURNING 1
                ), dropped AS (
                  INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
                  SELECT \(target.roundID), \(target.branchID), 'public', \(target.formVersionID),
                         (now() AT TIME ZONE 'Asia/Shanghai')::date, \(ballot)::bytea
                  FROM claimed
                  WHERE \(codeHash)::bytea IS NULL OR EXISTS (SELECT 1 FROM burned)
                  RETURNING 1
                ), repeated AS (
                  UPDATE round_branches SET repeated_device_answers = repeated_device_answers + 1
                  WHERE \(repeatedDevice) AND round_id = \(target.roundID) AND branch_id = \(target.branchID) AND shared_device
                    AND EXISTS (SELECT 1 FROM dropped)
                  RETURNING 1
                )
                SELECT (SELECT count(*) FROM open_round)::int, (SELECT count(*) FROM room)::int,
                       (SELECT count(*) FROM claimed)::int, (SELECT count(*) FROM dropped)::int
                """,
                logger: logger
            ).decode((Int, Int, Int, Int).self) { counts = row }
            return counts
        }
        let (open, room, claimed, dropped) = counts
        if open == 0 { return .roundClosed }
        if room == 0 { return .capReached }
        if claimed == 0 { return .alreadyStored }
        return dropped == 1 ? .stored : .invitationUsed
    }

    /// A member's ballot through their invitation, sealed, waiting to be written with the
    /// ballots that arrive with it.
    struct MemberBallot: Sendable {
        let roundID: UUID
        let formVersionID: UUID
        let keyHash: [UInt8]
        let tokenHash: [UInt8]
        let sealed: [UInt8]
    }

    public func storeBallot(_ record: SubmissionRecord, invitationToken: String, logger: Logger) async throws -> StoreOutcome {
        let target = record.target
        return try await memberBallots.store(
            MemberBallot(
                roundID: target.roundID,
                formVersionID: target.formVersionID,
                keyHash: Array(SHA256.hash(data: Data(record.submissionKey.utf8))),
                tokenHash: InvitationTokens.hash(invitationToken),
                sealed: try seal.seal(BallotContent(record).encoded(), roundID: target.roundID, group: RoundConfiguration.RaterGroup.members.rawValue)
            )
        )
    }

    /// One statement for a batch of member ballots, each checked as it would be alone: its round
    /// is open, its submission key is claimed, its invitation is burned, and its sealed ballot
    /// dropped into the box; all of the batch or none of it.
    ///
    /// The round's row is key-share locked as it is read. A close holds the row's update lock
    /// while it empties the box, so a batch sent meanwhile waits for it and then reads the round
    /// as closed. Unlocked, the batch read the round as open from its snapshot, waited only in
    /// the ballot box's foreign key check, and landed in the box after the close had emptied it:
    /// acknowledged, never counted. Public answers lock the same way.
    static func storeMemberBallots(_ batch: [MemberBallot], database: Database) async throws -> [StoreOutcome] {
        let rows = try await database.query(
            """
            WITH input AS (
              SELECT * FROM unnest(\(batch.map { ByteBuffer(bytes: $0.keyHash) }), \(batch.map { ByteBuffer(bytes: $0.tokenHash) }),
                                   \(batch.map(\.roundID)), \(batch.map(\.formVersionID)), \(batch.map { ByteBuffer(bytes: $0.sealed) }))
                WITH ORDINALITY AS i(key_hash, token_hash, round_id, form_version_id, sealed, position)
            ), open_input AS (
              SELECT i.* FROM input i JOIN rounds r ON r.id = i.round_id
              WHERE r.status = \(RoundStatus.open) AND (r.closes_at IS NULL OR r.closes_at > now())
              FOR KEY SHARE OF r
            ), claimed AS (
              INSERT INTO submission_keys (key_hash, round_id, used_on)
              SELECT key_hash, round_id, (now() AT TIME ZONE 'Asia/Shanghai')::date FROM open_input
              ON CONFLICT (key_hash) DO NOTHING
              RETURNING key_hash
            ), burned AS (
              UPDATE invitations v SET used = true
              FROM open_input i
              WHERE v.token_hash = i.token_hash AND v.round_id = i.round_id AND NOT v.used AND v.revoked_at IS NULL
                AND i.key_hash IN (SELECT key_hash FROM claimed)
              RETURNING v.token_hash, v.branch_id
            ), dropped AS (
              INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
              SELECT i.round_id, b.branch_id, 'members', i.form_version_id, (now() AT TIME ZONE 'Asia/Shanghai')::date, i.sealed
              FROM open_input i JOIN burned b ON b.token_hash = i.token_hash
              RETURNING 1
            )
            SELECT i.position::int,
                   EXISTS (SELECT 1 FROM open_input o WHERE o.position = i.position),
                   EXISTS (SELECT 1 FROM claimed c WHERE c.key_hash = i.key_hash),
                   EXISTS (SELECT 1 FROM burned b WHERE b.token_hash = i.token_hash)
            FROM input i ORDER BY i.position
            """
        )
        var outcomes = [StoreOutcome](repeating: .roundClosed, count: batch.count)
        for row in rows {
            // A burned invitation's ballot is in the box: the same statement dropped it there.
            let (position, open, claimed, burned) = try row.decode((Int, Bool, Bool, Bool).self)
            guard (1...batch.count).contains(position) else { continue }
            outcomes[position - 1] = !open ? .roundClosed : !claimed ? .alreadyStored : burned ? .stored : .invitationUsed
        }
        return outcomes
    }

    private func lookUpTarget(roundID: UUID, group: RespondentTarget.RaterGroup, branchID: UUID) async throws -> RespondentTarget? {
        let rows = try await database.query(
            """
            SELECT r.title, r.status = \(RoundStatus.open) AND (r.closes_at IS NULL OR r.closes_at > now()), g.form_version_id, b.name,
                   r.closes_at
            FROM rounds r
            JOIN round_groups g ON g.round_id = r.id AND g.rater_group = \(group.rawValue)
            JOIN round_branches rb ON rb.round_id = r.id AND rb.branch_id = \(branchID)
            JOIN branches b ON b.id = rb.branch_id
            WHERE r.id = \(roundID) AND g.form_version_id IS NOT NULL
            """
        )
        guard let row = rows.first else { return nil }
        let (title, open, formVersionID, branchName, closesAt) = try row.decode((String, Bool, UUID, String, Date?).self)
        return RespondentTarget(
            roundID: roundID,
            roundTitle: title,
            roundOpen: open,
            group: group,
            branchID: branchID,
            branchName: branchName,
            formVersionID: formVersionID,
            closesAt: closesAt
        )
    }
}

/// Minimal JSON writing for values whose shape is known.
enum JSONText {
    static func string(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal.
    static func append(_ text: String, to out: inout String) {
        // Most keys and answers need no escaping: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Finite numbers only: scores are always on 0–100.
    static func number(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "null"
    }

    static func array(_ elements: [String]) -> String {
        "[" + elements.joined(separator: ",") + "]"
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}
