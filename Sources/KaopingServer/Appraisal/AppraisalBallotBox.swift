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

/// The appraisal's ballot box: ballots wait sealed (`BallotSeal`), as branch ballots do, and
/// are counted once, when the vote closes: the close opens every ballot, sums the votes over all
/// of them and writes the counts (`appraisal_votes`) in one statement of its own transaction.
///
/// Counting in batches while the vote runs, as branch ballots are mixed, would leak here: a
/// ballot says something about every member of its branch but one, its voter, so a batch that
/// held a single ballot of a branch would tell, by the one member whose counts did not move,
/// whose it was (to anyone comparing the counts before and after, or reading their old versions
/// in the database's files). Counted once, the counts only ever hold the whole vote.
enum AppraisalBallotBox {
    /// What a ballot is bound to besides its round, so that a branch ballot never opens as an
    /// appraisal one, nor a representative's as a member's.
    static func sealLabel(_ group: AppraisalVoterGroup) -> String { "appraisal/\(group.rawValue)" }

    /// Opens every waiting ballot of the round, sums their votes and writes the counts, and
    /// empties the box; returns how many ballots were counted.
    static func count(roundID: UUID, seal: BallotSeal, connection: PostgresConnection, logger: Logger) async throws -> Int {
        struct Key: Hashable {
            let member: UUID
            let group: String
            let choice: String
        }
        var counts: [Key: Int] = [:]
        var ballots = 0
        for try await (group, sealed) in try await connection.query(
            """
            DELETE FROM appraisal_ballot_box WHERE round_id = \(roundID) RETURNING voter_group, sealed
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
        guard !counts.isEmpty else { return ballots }
        // Summed before they are written, in one statement: no count ever holds part of the vote.
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
}
