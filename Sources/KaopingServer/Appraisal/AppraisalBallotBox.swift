import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// One voter's ballot: for each member on their roster, a category's key or "not able to judge".
struct AppraisalBallot: Equatable {
    struct Vote: Equatable {
        var member: UUID
        /// A category's key, or `AppraisalSettings.abstain`.
        var choice: String
    }

    var votes: [Vote]

    /// Version 1: a version byte, a 4-byte count, then per vote the member's 16 bytes and the
    /// choice's length (one byte) and UTF-8 bytes.
    static let version: UInt8 = 1

    func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.version]
        withUnsafeBytes(of: UInt32(votes.count).littleEndian) { out.append(contentsOf: $0) }
        for vote in votes {
            withUnsafeBytes(of: vote.member.uuid) { out.append(contentsOf: $0) }
            let choice = Array(vote.choice.utf8.prefix(255))
            out.append(UInt8(choice.count))
            out.append(contentsOf: choice)
        }
        return out
    }

    init(votes: [Vote]) {
        self.votes = votes
    }

    init(decoding bytes: [UInt8]) throws(BallotContentError) {
        guard bytes.count >= 5, bytes[0] == Self.version else { throw .malformed }
        var count = 0
        for offset in 0..<4 { count |= Int(bytes[1 + offset]) << (8 * offset) }
        var position = 5
        var votes: [Vote] = []
        votes.reserveCapacity(min(count, 10_000))
        for _ in 0..<count {
            guard position + 17 <= bytes.count else { throw .malformed }
            let b = Array(bytes[position..<position + 16])
            let member = UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
            let length = Int(bytes[position + 16])
            position += 17
            guard position + length <= bytes.count else { throw .malformed }
            votes.append(Vote(member: member, choice: String(decoding: bytes[position..<position + length], as: UTF8.self)))
            position += length
        }
        guard position == bytes.count else { throw .malformed }
        self.votes = votes
    }
}

/// The appraisal's ballot box: ballots wait sealed, as branch ballots do (`BallotBox`), and the
/// mixer opens a batch of at least k, adds its votes to the counts (`appraisal_votes`) and
/// deletes it, in one transaction. No ballot is ever stored open: a ballot names its voter by
/// the one member of the branch it says nothing about, so only counts are kept.
public struct AppraisalBallotBox: Sendable {
    let database: Database
    let seal: BallotSeal
    let pace: Duration
    let largestBatch: Int

    public init(database: Database, seal: BallotSeal, pace: Duration = .seconds(30), largestBatch: Int = 5000) {
        self.database = database
        self.seal = seal
        self.pace = pace
        self.largestBatch = largestBatch
    }

    /// What a ballot is bound to besides its round, so that a branch ballot never opens as an
    /// appraisal one, nor a representative's as a member's.
    static func sealLabel(_ group: AppraisalVoterGroup) -> String { "appraisal/\(group.rawValue)" }

    /// Mixes every open round with at least k ballots waiting that was not mixed within the pace.
    public func mixFullRounds(logger: Logger) async throws -> Int {
        let pace = paceSeconds
        let due = try await database.query(
            """
            SELECT b.round_id FROM appraisal_ballot_box b JOIN appraisal_rounds r ON r.id = b.round_id
            WHERE r.status = 'open' AND (r.last_mixed_at IS NULL OR r.last_mixed_at <= now() - make_interval(secs => \(pace)))
            GROUP BY b.round_id, r.config
            HAVING count(*) >= greatest((r.config->>'anonymityThreshold')::int, 3)
            """
        ).map { try $0.decode(UUID.self) }
        var moved = 0
        for round in due {
            let started = ContinuousClock.now
            var count = 0
            do {
                var last = try await mix(round, paced: true, logger: logger)
                count += last
                while last == largestBatch {
                    last = try await mix(round, paced: false, logger: logger)
                    count += last
                }
            } catch let error as BallotSealError {
                logger.error("appraisal ballots not mixed", metadata: ["round": "\(round)", "reason": "\(error)"])
            }
            guard count > 0 else { continue }
            moved += count
            let elapsed = (ContinuousClock.now - started).components
            let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
            logger.info(
                "appraisal ballots counted",
                metadata: ["round": "\(round)", "ballots": "\(count)", "ms": "\(Int(milliseconds.rounded()))"]
            )
        }
        return moved
    }

    func mix(_ round: UUID, paced: Bool, logger: Logger) async throws -> Int {
        let seal = self.seal
        let pace = paced ? paceSeconds : 0
        let largest = largestBatch
        do {
            return try await database.transaction(logger: logger) { connection in
                var threshold: Int?
                for try await value in try await connection.query(
                    """
                    SELECT greatest((config->>'anonymityThreshold')::int, 3) FROM appraisal_rounds
                    WHERE id = \(round) AND status = 'open'
                      AND (last_mixed_at IS NULL OR last_mixed_at <= now() - make_interval(secs => \(pace)))
                    FOR NO KEY UPDATE
                    """,
                    logger: logger
                ).decode(Int.self) { threshold = value }
                guard let threshold else { return 0 }
                let moved = try await Self.move(
                    roundID: round,
                    seal: seal,
                    taking: largest,
                    atLeast: threshold,
                    connection: connection,
                    logger: logger
                )
                try await connection.execute("UPDATE appraisal_rounds SET last_mixed_at = now() WHERE id = \(round)", logger: logger)
                return moved
            }
        } catch is TooFewBallots {
            return 0
        }
    }

    private struct TooFewBallots: Error {}

    /// Opens up to `limit` waiting ballots (all, without one), adds their votes to the counts
    /// and deletes them; throws `TooFewBallots` (rolling back) when fewer than `atLeast` wait.
    static func move(
        roundID: UUID,
        seal: BallotSeal,
        taking limit: Int?,
        atLeast fewest: Int = 0,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        struct Key: Hashable {
            let member: UUID
            let group: String
            let choice: String
        }
        var counts: [Key: Int] = [:]
        var ballots = 0
        for try await (group, sealed) in try await connection.query(
            """
            DELETE FROM appraisal_ballot_box WHERE id IN (
              SELECT id FROM appraisal_ballot_box WHERE round_id = \(roundID) LIMIT \(limit ?? Int(Int32.max)))
            RETURNING voter_group, sealed
            """,
            logger: logger
        ).decode((String, ByteBuffer).self) {
            guard let voters = AppraisalVoterGroup(rawValue: group) else { throw BallotContentError.malformed }
            let ballot = try AppraisalBallot(
                decoding: try seal.open(Array(sealed.readableBytesView), roundID: roundID, group: sealLabel(voters))
            )
            ballots += 1
            for vote in ballot.votes { counts[Key(member: vote.member, group: group, choice: vote.choice), default: 0] += 1 }
        }
        if ballots < fewest { throw TooFewBallots() }
        guard !counts.isEmpty else { return ballots }
        // Summed before they are written: the batch's ballots cannot be told apart in the counts.
        let keys = Array(counts.keys)
        try await connection.execute(
            """
            INSERT INTO appraisal_votes (round_id, member_id, voter_group, category, votes)
            SELECT \(roundID), v.member, v.voter_group, v.category, v.votes
            FROM unnest(\(keys.map(\.member))::uuid[], \(keys.map(\.group))::text[], \(keys.map(\.choice))::text[], \(keys.map { counts[$0]! })::int[])
              AS v(member, voter_group, category, votes)
            ORDER BY v.member, v.voter_group, v.category
            ON CONFLICT (round_id, member_id, voter_group, category) DO UPDATE SET votes = appraisal_votes.votes + EXCLUDED.votes
            """,
            logger: logger
        )
        return ballots
    }

    private var paceSeconds: Double {
        Double(pace.components.seconds) + Double(pace.components.attoseconds) / 1e18
    }
}
