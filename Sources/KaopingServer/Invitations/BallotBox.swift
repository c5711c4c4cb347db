// Invitations: how people get to answer. Members' invitation tokens and short codes, visit
// codes, QR codes, and the sealed ballot box with the mixer that makes answers unlinkable.

import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// Anonymous ballots wait in the ballot box, sealed, and move into the responses in shuffled
/// batches of at least k.
///
/// A ballot is written in the same transaction that burns its invitation, and the write-ahead
/// log keeps that transaction; the ballot is therefore sealed (`BallotSeal`), and only the
/// mixer, which holds the server secret, opens it. A mix opens a batch, shuffles it with the
/// system's secure generator and writes it as responses under fresh random ids in one
/// transaction, touching nothing but the batch: the ballot box rows it deletes and the
/// responses it writes. What the database files then tell about a member's ballot is which
/// batch it went into (docs/privacy.md), and a mix costs the batch, whatever the round's size.
public struct BallotBox: Sendable {
    let database: Database
    let seal: BallotSeal
    /// The shortest time between two mixes of one round: ballots wait at most about this long
    /// once k have arrived, and a busy round's batches are larger than k.
    let pace: Duration
    /// The most ballots one mix moves, so that a full box is emptied in steps of bounded memory
    /// and time; a round with more waiting is mixed again at once, until fewer remain.
    let largestBatch: Int

    public init(database: Database, seal: BallotSeal, pace: Duration = .seconds(30), largestBatch: Int = 5000) {
        self.database = database
        self.seal = seal
        self.pace = pace
        self.largestBatch = largestBatch
    }

    /// Mixes the ballots of every open round that has at least its anonymity threshold waiting
    /// and was not mixed within the pace.
    public func mixFullRounds(logger: Logger) async throws -> Int {
        let due = try await database.query(
            """
            SELECT b.round_id FROM ballot_box b JOIN rounds r ON r.id = b.round_id
            WHERE r.status = \(RoundStatus.open) AND (r.last_mixed_at IS NULL OR r.last_mixed_at <= now() - make_interval(secs => \(paceSeconds)))
            GROUP BY b.round_id, r.config
            HAVING count(*) >= greatest(coalesce((r.config->>'anonymityThreshold')::int, 5), 3)
            """
        ).map { try $0.decode(UUID.self) }
        var moved = 0
        for round in due {
            let started = ContinuousClock.now
            // A busy round can gather more than one batch's worth within the pace: the mixer
            // keeps taking full batches, so the box never grows from one pace to the next.
            var count = 0
            do {
                var last = try await mix(roundID: round, paced: true, logger: logger)
                count += last
                while last == largestBatch {
                    last = try await mix(roundID: round, paced: false, logger: logger)
                    count += last
                }
            } catch let error as BallotSealError {
                // One round's ballots that this secret cannot open must not hold up the others.
                logger.error("ballots not mixed", metadata: ["round": "\(round)", "reason": "\(error)"])
            }
            guard count > 0 else { continue }
            moved += count
            let elapsed = (ContinuousClock.now - started).components
            let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
            logger.info(
                "ballots mixed into responses",
                metadata: ["round": "\(round)", "ballots": "\(count)", "ms": "\(Int(milliseconds.rounded()))"]
            )
        }
        return moved
    }

    /// One mix of a round, if it is still due once its row is locked (`paced`: not mixed within
    /// the pace): at least k ballots, at most `largestBatch`. Another instance's mixer may have
    /// taken the batch meanwhile; then nothing moves.
    func mix(roundID: UUID, paced: Bool, logger: Logger) async throws -> Int {
        let seal = self.seal
        let pace = paced ? paceSeconds : 0
        let largestBatch = self.largestBatch
        do {
            return try await database.transaction(logger: logger) { connection in
                // NO KEY UPDATE: it serialises mixers and closing, and lets new ballots in (their
                // foreign key takes a KEY SHARE lock on the round).
                var threshold: Int?
                for try await value in try await connection.query(
                    """
                    SELECT greatest(coalesce((config->>'anonymityThreshold')::int, 5), 3) FROM rounds
                    WHERE id = \(roundID) AND status = \(RoundStatus.open)
                      AND (last_mixed_at IS NULL OR last_mixed_at <= now() - make_interval(secs => \(pace)))
                    FOR NO KEY UPDATE
                    """,
                    logger: logger
                ).decode(Int.self) { threshold = value }
                guard let threshold else { return 0 }
                return try await Self.move(
                    roundID: roundID,
                    seal: seal,
                    taking: .atLeast(threshold, atMost: largestBatch),
                    connection: connection,
                    logger: logger
                )
            }
        } catch is TooFewBallots {
            return 0
        }
    }

    /// Moves every ballot still waiting for the round, whatever their number; at close, in the
    /// closing transaction.
    static func flush(roundID: UUID, seal: BallotSeal, connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await move(roundID: roundID, seal: seal, taking: .all, connection: connection, logger: logger)
    }

    enum BatchSize {
        case all
        case atLeast(Int, atMost: Int)
    }

    private struct TooFewBallots: Error {}
    private struct ScoreOutOfRange: Error {}

    private static func move(
        roundID: UUID,
        seal: BallotSeal,
        taking size: BatchSize,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        let limit: Int? =
            switch size {
            case .all: nil
            case .atLeast(_, let most): most
            }
        struct Waiting {
            let branch: UUID
            let group: String
            let formVersion: UUID
            let submittedOn: String
            let content: BallotContent
        }
        // One row of arrays rather than a row per ballot: PostgresNIO 1.33 stops the process (a
        // precondition in its row stream) when the server drops a connection while a stream of
        // rows waits for its reader, which the failover drill saw in the middle of a mix, even
        // with the rows taken as fast as they came.
        var taken:
            (branches: [UUID], groups: [String], formVersions: [UUID], days: [String], isSealed: [Bool], sealed: [ByteBuffer], plain: [String])?
        for try await row in try await connection.query(
            """
            WITH moved AS (
              DELETE FROM ballot_box WHERE id IN (
                SELECT id FROM ballot_box WHERE round_id = \(roundID) LIMIT \(limit ?? Int(Int32.max))
              )
              RETURNING branch_id, rater_group, form_version_id, submitted_on, sealed, ballot
            )
            SELECT array_agg(branch_id), array_agg(rater_group), array_agg(form_version_id),
                   array_agg(to_char(submitted_on, 'YYYY-MM-DD')), array_agg(sealed IS NOT NULL),
                   array_agg(coalesce(sealed, ''::bytea)), array_agg(coalesce(ballot::text, '{}'))
            FROM moved HAVING count(*) > 0
            """,
            logger: logger
        ).decode(([UUID], [String], [UUID], [String], [Bool], [ByteBuffer], [String]).self) { taken = row }
        var batch: [Waiting] = []
        if let taken {
            for index in taken.branches.indices {
                let group = taken.groups[index]
                // Ballots that waited in plaintext from before sealing existed move as they are.
                let content =
                    if taken.isSealed[index] {
                        try BallotContent(decoding: try seal.open(Array(taken.sealed[index].readableBytesView), roundID: roundID, group: group))
                    } else {
                        try BallotContent(json: Array(taken.plain[index].utf8))
                    }
                batch.append(
                    Waiting(
                        branch: taken.branches[index],
                        group: group,
                        formVersion: taken.formVersions[index],
                        submittedOn: taken.days[index],
                        content: content
                    )
                )
            }
        }
        if case .atLeast(let fewest, _) = size, batch.count < fewest { throw TooFewBallots() }
        guard !batch.isEmpty else { return 0 }
        var generator = SystemRandomNumberGenerator()
        batch.shuffle(using: &generator)

        // Column by column, as binary arrays: the database reads them without parsing text.
        // Absent values travel as NaN or the empty string and come back as NULL.
        var answerPosition: [Int64] = []
        var answerItem: [String] = []
        var answerOption: [String] = []
        var answerNumber: [Double] = []
        var answerText: [String] = []
        var answerPoints: [Double] = []
        for (position, ballot) in batch.enumerated() {
            for answer in ballot.content.answers {
                answerPosition.append(Int64(position + 1))
                answerItem.append(answer.item)
                answerOption.append(answer.option ?? "")
                answerNumber.append(answer.number ?? .nan)
                answerText.append(answer.text ?? "")
                answerPoints.append(answer.points ?? .nan)
            }
        }
        // Dimension scores go in as arrays in the order of each form's dimensions (NULL where a
        // ballot scored none of a dimension), read from the stored definitions the batch uses.
        // Read here, on the mix's own connection: the form repository's cache looked the same,
        // but a miss leases a second connection inside the transaction, and a mix of 1,000
        // ballots measured a median of 182 ms that way against 128 ms.
        var dimensionKeys: [UUID: [String]] = [:]
        for try await (id, keys) in try await connection.query(
            """
            SELECT id, ARRAY(SELECT d.dimension ->> 'key' FROM jsonb_array_elements(coalesce(definition -> 'dimensions', '[]'::jsonb))
                             WITH ORDINALITY AS d(dimension, position) ORDER BY d.position)
            FROM form_versions WHERE id = ANY(\(Array(Set(batch.map(\.formVersion)))))
            """,
            logger: logger
        ).decode((UUID, [String]).self) { dimensionKeys[id] = keys }
        let dimensions = batch.map { ballot in
            let scored = Dictionary(ballot.content.dimensions.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            return "{" + (dimensionKeys[ballot.formVersion] ?? []).map { scored[$0].map { "\($0)" } ?? "NULL" }.joined(separator: ",") + "}"
        }
        // The batch's own tally of each branch and group, added to the kept tallies below; the
        // insert tells the trigger so, instead of it aggregating those branches' responses again.
        var tallies: [TallyKey: [ResponseInput]] = [:]
        for ballot in batch {
            let scored = Dictionary(ballot.content.dimensions.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            // As the database stores them: a NaN is no score. A score the tally's steps cannot
            // hold fails the mix, as it fails the database's own tallying.
            func score(_ value: Double?) throws -> Double? {
                guard let value, !value.isNaN else { return nil }
                guard abs(value) < 1e9 else { throw ScoreOutOfRange() }
                return value
            }
            tallies[TallyKey(branch: ballot.branch, group: ballot.group), default: []].append(
                ResponseInput(
                    score: try score(ballot.content.score),
                    dimensions: try (dimensionKeys[ballot.formVersion] ?? []).map { try score(scored[$0]) },
                    straightLined: ballot.content.straightLined,
                    satisfied: ballot.content.satisfied
                )
            )
        }
        try await connection.execute("SELECT set_config('kaoping.tallies_added_by_caller', 'on', true)", logger: logger)
        var moved = 0
        for try await count in try await connection.query(
            """
            WITH batch AS MATERIALIZED (
              SELECT b.*
              FROM unnest(\(Self.responseIDs(batch.count)), \(batch.map(\.branch)), \(batch.map(\.group)), \(batch.map(\.formVersion)), \(batch.map(\.submittedOn)),
                          \(batch.map { $0.content.score ?? .nan }), \(dimensions), \(batch.map(\.content.straightLined)),
                          \(batch.map { $0.content.satisfied.map { $0 ? "yes" : "no" } ?? "" }))
                WITH ORDINALITY AS b(response_id, branch_id, rater_group, form_version_id, submitted_on, score, dimensions, straight_lined, satisfied, position)
            ), inserted AS (
              INSERT INTO responses (id, round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
              SELECT b.response_id, \(roundID), b.branch_id, b.rater_group, b.form_version_id, b.submitted_on::date, nullif(b.score, 'NaN'),
                     b.dimensions::float8[], b.straight_lined, CASE b.satisfied WHEN 'yes' THEN true WHEN 'no' THEN false END
              FROM batch b ORDER BY b.position
              RETURNING 1
            ), answered AS (
              INSERT INTO answers (response_id, item_key, option_key, number_value, text_value, points)
              SELECT b.response_id, a.item_key, nullif(a.option_key, ''), nullif(a.number_value, 'NaN'), nullif(a.text_value, ''), nullif(a.points, 'NaN')
              FROM unnest(\(answerPosition), \(answerItem), \(answerOption), \(answerNumber), \(answerText), \(answerPoints))
                AS a(position, item_key, option_key, number_value, text_value, points)
              JOIN batch b ON b.position = a.position
              RETURNING 1
            ), paced AS (
              UPDATE rounds SET last_mixed_at = now() WHERE id = \(roundID) RETURNING 1
            )
            SELECT (SELECT count(*)::int FROM inserted) + 0 * (SELECT count(*) FROM answered) + 0 * (SELECT count(*) FROM paced)
            """,
            logger: logger
        ).decode(Int.self) { moved = count }
        try await connection.execute("SELECT set_config('kaoping.tallies_added_by_caller', 'off', true)", logger: logger)
        try await TallyRepository.add(
            tallies.mapValues { ResponseTally($0, extremes: TallyQuery.keptExtremes) },
            roundID: roundID,
            on: connection,
            logger: logger
        )
        return moved
    }

    /// Fresh random ids (version 4) for a batch's responses that share their first eight bytes,
    /// drawn anew for each batch: the batch's responses then sit together in the primary key
    /// indexes instead of each touching a page of its own (a third of a mix's time in a round of
    /// 500,000 responses). The shared half tells only which batch a response came in, which the
    /// rows' transaction id and physical order tell already (docs/privacy.md).
    static func responseIDs(_ count: Int) -> [UUID] {
        var generator = SystemRandomNumberGenerator()
        let batch = generator.next() as UInt64
        return (0..<count).map { _ in
            var bytes = [UInt8](repeating: 0, count: 16)
            withUnsafeBytes(of: batch.bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            withUnsafeBytes(of: (generator.next() as UInt64).bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
            bytes[6] = bytes[6] & 0x0F | 0x40
            bytes[8] = bytes[8] & 0x3F | 0x80
            return UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                    bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                )
            )
        }
    }

    private var paceSeconds: Double {
        Double(pace.components.seconds) + Double(pace.components.attoseconds) / 1e18
    }
}
