import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// A round's results as they stand, and whether they can still change. The result is the one
/// every output shows: with the anonymity threshold applied (`RoundResult.disclose()`).
public struct CurrentResults: Sendable {
    public let result: RoundResult
    public let provisional: Bool
    public let computedAt: Date
    /// Where the standby the provisional results were read from stood; `nil` when they were
    /// read from the primary (and for final results, the same on either).
    public var standby: StandbyPosition? = nil
}

/// Reads a round's answers from PostgreSQL into the scoring method's inputs (docs/scoring.md)
/// and runs it. The database tallies the responses per branch (`TallyQuery`): a round can hold
/// a million responses, and the method needs only their exact sums and extremes.
public struct ResultsRepository: Sendable {
    let database: Database
    let forms: FormRepository
    let history: BranchHistoryRepository
    /// Live results of open rounds, reused for a moment: a large round takes seconds to
    /// score, and the committee's staff open the ranking, then a branch, then go back.
    let live: TimedCache<UUID, Live>
    /// Final results as decoded from their snapshot, by round and the time the snapshot was
    /// stored (a reopened round's next close stores another): a province's snapshot is tens of
    /// megabytes of JSON, read by every page of the round. The one repository of the process
    /// holds it, so that the pages find what `ResultsWarmingService` has read.
    let final = TimedCache<FinalKey, CurrentResults>(lifetime: .seconds(3600), capacity: 3)

    /// Live results as computed, when their answers were read, and where the standby stood
    /// then (`nil`: from the primary).
    struct Live: Sendable {
        let result: RoundResult
        let computedAt: Date
        let standby: StandbyPosition?
    }

    struct FinalKey: Hashable, Sendable {
        let round: UUID
        let computedAt: Date
    }

    public init(database: Database, forms: FormRepository, history: BranchHistoryRepository, liveLifetime: Duration = .seconds(15)) {
        self.database = database
        self.forms = forms
        self.history = history
        self.live = TimedCache(lifetime: liveLifetime, capacity: 16)
    }

    /// A round's results: the final snapshot once it has closed, else computed now and marked
    /// provisional.
    public func current(roundID: UUID, logger: Logger) async throws -> CurrentResults? {
        if let stored = try await database.query(
            "SELECT computed_at FROM result_snapshots WHERE round_id = \(roundID) AND kind = 'final'"
        ).first?.decode(Date.self) {
            let key = FinalKey(round: roundID, computedAt: stored)
            if let cached = final.value(for: key) { return cached }
            if let row = try await database.query(
                "SELECT results::text FROM result_snapshots WHERE round_id = \(roundID) AND kind = 'final'"
            ).first,
                var result = try? JSONDecoder().decode(RoundResult.self, from: Data(try row.decode(String.self).utf8))
            {
                result.disclose()
                let current = CurrentResults(result: result, provisional: false, computedAt: stored)
                final.store(current, for: key)
                return current
            }
        }
        // Read first: the answers read next are at least as new as the standby's position. A
        // result kept from one source is not shown as coming from the other (the standby gone,
        // or back).
        let standby = try await database.standbyPosition()
        // Results reused are shown with the time they were computed, not the time they are shown.
        if let cached = live.value(for: roundID), (cached.standby == nil) == (standby == nil) {
            return CurrentResults(result: cached.result, provisional: true, computedAt: cached.computedAt, standby: cached.standby)
        }
        // Dated just before the answers are read: the results hold every answer stored by then.
        let computedAt = Date.now
        guard var result = try await compute(roundID: roundID, logger: logger) else { return nil }
        result.disclose()
        live.store(Live(result: result, computedAt: computedAt, standby: standby), for: roundID)
        return CurrentResults(result: result, provisional: true, computedAt: computedAt, standby: standby)
    }

    /// Drops the round's live results kept for reuse, after a change this process made to what
    /// they are computed from: whoever looks next sees it, not the results of a moment ago.
    /// (Another instance's copy lasts its few seconds.)
    public func forgetLive(roundID: UUID) {
        live.forget(roundID)
    }

    /// How a branch's answers are spread over each item's options, and its comments, for the
    /// branch report. Comments come sorted by their text, never in the order they arrived.
    public func details(roundID: UUID, branchCode: String) async throws -> BranchDetails {
        var details = BranchDetails()
        for row in try await database.query(
            """
            SELECT r.rater_group, a.item_key, a.option_key, count(*)::int
            FROM responses r JOIN branches b ON b.id = r.branch_id JOIN answers a ON a.response_id = r.id
            WHERE r.round_id = \(roundID) AND b.code = \(branchCode) AND a.option_key IS NOT NULL AND r.excluded_by IS NULL
            GROUP BY 1, 2, 3
            """
        ) {
            let (group, item, option, count) = try row.decode((String, String, String, Int).self)
            details.counts[group, default: [:]][item, default: [:]][option] = count
        }
        for row in try await database.query(
            """
            SELECT r.rater_group, a.item_key, a.text_value
            FROM responses r JOIN branches b ON b.id = r.branch_id JOIN answers a ON a.response_id = r.id
            WHERE r.round_id = \(roundID) AND b.code = \(branchCode) AND r.excluded_by IS NULL
              AND a.option_key IS NULL AND a.number_value IS NULL
              AND a.text_value IS NOT NULL AND a.text_value <> ''
            ORDER BY 1, 2, 3
            """
        ) {
            let (group, item, text) = try row.decode((String, String, String).self)
            details.comments[group, default: [:]][item, default: []].append(text)
        }
        for row in try await database.query(
            """
            SELECT rb.repeated_device_answers FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(roundID) AND b.code = \(branchCode) AND (rb.shared_device OR rb.repeated_device_answers > 0)
            """
        ) {
            details.repeatedDeviceAnswers = try row.decode(Int.self)
        }
        return details
    }

    /// The frozen form each rater group of the round answers, by group name.
    public func groupForms(roundID: UUID) async throws -> [String: FormDefinition] {
        var forms: [String: FormDefinition] = [:]
        for row in try await database.query(
            "SELECT rater_group, form_version_id FROM round_groups WHERE round_id = \(roundID) AND form_version_id IS NOT NULL"
        ) {
            let (group, version) = try row.decode((String, UUID).self)
            forms[group] = try await self.forms.definition(id: version)
        }
        return forms
    }

    /// Every comment of the round's mixed responses, by branch, group and question, sorted by
    /// text (never in the order they arrived).
    /// The round's comments, read as they are written out, on a connection of their own.
    func withComments<Result>(
        roundID: UUID,
        _ body: (_ comments: AsyncThrowingMapSequence<CursorRows, ResultsWorkbook.Comment>) async throws -> Result
    ) async throws -> Result {
        try await database.withCursor(
            """
            SELECT b.code, r.rater_group, a.item_key, a.text_value
            FROM responses r JOIN branches b ON b.id = r.branch_id JOIN answers a ON a.response_id = r.id
            WHERE r.round_id = \(roundID) AND r.excluded_by IS NULL AND a.option_key IS NULL AND a.number_value IS NULL
              AND a.text_value IS NOT NULL AND a.text_value <> ''
            ORDER BY 1, 2, 3, 4
            """,
            logger: Logger(label: "kaoping.results")
        ) { rows in
            try await body(
                rows.map { row in
                    let (code, group, item, text) = try row.decode((String, String, String, String).self)
                    return ResultsWorkbook.Comment(branchCode: code, group: group, item: item, text: text)
                }
            )
        }
    }

    /// The evaluators' notes and remarks on the round's submitted sheets (without their names:
    /// the reports go to branch secretaries), by branch, then evaluator by evaluator in the
    /// order of their user names (an evaluator has one sheet per branch), each one's by item:
    /// the same order every time, however the rows lie in the table.
    public func sheetNotes(roundID: UUID, branchCode: String? = nil) async throws -> [ResultsWorkbook.SheetNote] {
        try await database.query(
            """
            SELECT b.code, e.item_key, e.note
            FROM org_sheets s JOIN branches b ON b.id = s.branch_id JOIN org_sheet_entries e ON e.sheet_id = s.id
            JOIN users u ON u.id = s.evaluator_id
            WHERE s.round_id = \(roundID) AND s.status = 'submitted' AND e.note <> '' AND (\(branchCode)::text IS NULL OR b.code = \(branchCode))
            ORDER BY b.code, lower(u.username), s.created_at, s.id, e.item_key
            """
        ).map { row in
            let (code, item, note) = try row.decode((String, String, String).self)
            return ResultsWorkbook.SheetNote(branchCode: code, item: item, text: note)
        }
    }

    /// Writes the results workbook to a new temporary file and returns its path; the caller
    /// removes it.
    public func workbook(
        roundID: UUID,
        result: RoundResult,
        integrated: IntegratedSheet? = nil,
        status: [(String, String)] = [],
        language: Language
    ) async throws -> String {
        let forms = try await groupForms(roundID: roundID)
        let notes = try await sheetNotes(roundID: roundID)
        let year = try await database.query("SELECT year FROM rounds WHERE id = \(roundID)").first?.decode(Int.self)
        let codes = Set(result.subjects.map(\.code))
        var assessments: [(code: String, assessment: BranchHistoryRepository.Assessment)] = []
        if let year {
            assessments = try await history.assessments(covering: year).filter { codes.contains($0.code) }
        }
        // Named by its round, so that a file left behind says whose it was.
        let path = NSTemporaryDirectory() + "kaoping-results-\(roundID.uuidString.lowercased())-\(UUID().uuidString).xlsx"
        // Every comment of the round streams into its sheet: a province's are hundreds of
        // thousands.
        try await withComments(roundID: roundID) { comments in
            try await ResultsWorkbook.write(
                result,
                forms: forms,
                comments: comments,
                sheetNotes: notes,
                integrated: integrated,
                assessments: assessments,
                status: status,
                language: language,
                to: path
            )
        }
        return path
    }

    public struct BranchDetails: Sendable {
        /// Rater group → item → option → number of answers.
        public var counts: [String: [String: [String: Int]]] = [:]
        /// Rater group → item → comments.
        public var comments: [String: [String: [String]]] = [:]
        /// Public answers from a browser that had answered before; nil unless the branch
        /// answers from a shared device (elsewhere a browser answers once).
        public var repeatedDeviceAnswers: Int?
    }

    public enum ResultsError: Error, Equatable {
        /// The round has not opened: its forms are not frozen yet.
        case notOpened
    }

    /// The round's results as they stand (provisional while it is open), before the anonymity
    /// threshold is applied.
    ///
    /// - Parameter readingResponses: aggregate every response and gather every sheet's entries
    ///   instead of reading the tallies and sheet items kept of them (a check: both give the
    ///   same bytes).
    public func compute(roundID: UUID, readingResponses: Bool = false, logger: Logger) async throws -> RoundResult? {
        let forms = self.forms
        return try await database.transaction(logger: logger) { connection in
            // Every statement sees the same answers.
            try await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await Self.compute(
                roundID: roundID,
                forms: forms,
                readingResponses: readingResponses,
                inIndexOrder: true,
                connection: connection,
                logger: logger
            )
        }
    }

    /// Scores a round from one connection, one statement after another, each branch's pieces
    /// scored as they arrive. One connection because the closing transaction must see the
    /// ballots it has just mixed in; and reading the groups' tallies on connections side by side
    /// measured 0.2 s faster but grew the server by 20 MB more while the pieces queued.
    ///
    /// - Parameter inIndexOrder: read the branches and the sheets with PostgreSQL's sort set
    ///   aside (`readInIndexOrder`); for a transaction of its own, since the setting lasts until
    ///   the transaction ends should a statement fail.
    static func compute(
        roundID: UUID,
        forms: FormRepository,
        readingResponses: Bool = false,
        inIndexOrder: Bool = false,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> RoundResult? {
        guard
            let plan = try await plan(
                roundID: roundID,
                forms: forms,
                readingResponses: readingResponses,
                inIndexOrder: inIndexOrder,
                connection: connection,
                logger: logger
            )
        else { return nil }
        // The rows are read, decoded and each piece scored by one task, and the scored pieces
        // added to the round by another, in batches handed over as they fill: on two cores the
        // two then run side by side, and the queue between them holds at most what the adding
        // falls behind.
        let (batches, handOver) = AsyncThrowingStream<[RoundScoring.ScoredPiece], any Error>.makeStream()
        let batchSize = 512
        let scorer = plan.scoring.scorer
        async let reading: Void = {
            do {
                var batch: [RoundScoring.ScoredPiece] = []
                batch.reserveCapacity(batchSize)
                func collect(_ piece: RoundScoring.Piece) {
                    guard let scored = scorer.score(piece) else { return }
                    batch.append(scored)
                    guard batch.count == batchSize else { return }
                    handOver.yield(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                for query in plan.tallies {
                    try await read(query, positions: plan.positions, connection: connection, logger: logger, collect)
                }
                if plan.readsSheets {
                    try await readSheets(
                        roundID: roundID,
                        positions: plan.positions,
                        fromEntries: readingResponses,
                        inIndexOrder: inIndexOrder,
                        connection: connection,
                        logger: logger,
                        collect
                    )
                }
                if !batch.isEmpty { handOver.yield(batch) }
                handOver.finish()
            } catch {
                handOver.finish(throwing: error)
                throw error
            }
        }()
        var scoring = plan.scoring
        for try await batch in batches {
            for piece in batch {
                scoring.add(piece)
                // The sheets come last and in subject order (`readSheets`): every subject up to
                // this one has had all its pieces, and is completed while the reading goes on.
                if piece.group == .organisation { scoring.complete(through: piece.subject) }
            }
        }
        try await reading
        // A cancelled reader ends the stream without an error: never score what came so far.
        try Task.checkCancellation()
        var result = (consume scoring).result()
        // Grades the committee set by decision, on record as corrections (docs/publicity.md).
        var decisions: [String: (grade: String, reason: String)] = [:]
        for try await (code, grade, reason) in try await connection.query(
            "SELECT b.code, d.grade, d.reason FROM grade_decisions d JOIN branches b ON b.id = d.branch_id WHERE d.round_id = \(roundID)",
            logger: logger
        ).decode((String, String, String).self) { decisions[code] = (grade, reason) }
        result.apply(decisions: decisions)
        return result
    }

    /// What scoring a round takes before its answers: the method set up with the round's
    /// configuration, frozen forms and branches, and the statements that read the answers.
    struct Plan: Sendable {
        var scoring: RoundScoring
        /// Each branch's position in `scoring`. Read committed (the close, a correction), the
        /// answers' statements may see a branch added since: it is left out rather than
        /// mistaken for another.
        var positions: [UUID: Int]
        var tallies: [TallyQuery]
        var readsSheets: Bool
    }

    static func plan(
        roundID: UUID,
        forms: FormRepository,
        readingResponses: Bool = false,
        inIndexOrder: Bool = false,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> Plan? {
        var round: (config: String, hash: String)?
        for try await row in try await connection.query(
            "SELECT config::text, coalesce(config_hash, '') FROM rounds WHERE id = \(roundID)",
            logger: logger
        ).decode((String, String).self) { round = (row.0, row.1) }
        guard let round else { return nil }

        var formVersions: [RoundConfiguration.RaterGroup: UUID] = [:]
        var weights: [RoundConfiguration.RaterGroup: Double] = [:]
        for try await (name, version, weight) in try await connection.query(
            "SELECT rater_group, form_version_id, weight FROM round_groups WHERE round_id = \(roundID)",
            logger: logger
        ).decode((String, UUID?, Double).self) {
            guard let group = RoundConfiguration.RaterGroup(rawValue: name) else { continue }
            guard let version else { throw ResultsError.notOpened }
            formVersions[group] = version
            weights[group] = weight
        }
        let configuration = Self.configuration(round.config, groups: weights)

        var sheet: SheetLayout?
        var dimensionKeys: [RoundConfiguration.RaterGroup: [String]] = [:]
        for (group, version) in formVersions {
            guard let form = try await forms.definition(id: version) else { continue }
            if group == .organisation {
                sheet = Self.layout(form)
            } else {
                dimensionKeys[group] = form.dimensions.map(\.key)
            }
        }

        var subjects: [RoundScoring.Subject] = []
        var positions: [UUID: Int] = [:]
        // Cell by cell, as the tallies are read: decoding a row as a tuple looks each column's
        // type up again, 25,000 times in a province's round.
        try await readInIndexOrder(inIndexOrder, connection: connection, logger: logger) {
            for try await row in try await connection.query(
                """
                SELECT rb.branch_id, b.code, b.name, o.name, rb.eligible_members
                FROM round_branches rb JOIN branches b ON b.id = rb.branch_id LEFT JOIN organisations o ON o.id = b.organisation_id
                WHERE rb.round_id = \(roundID) ORDER BY rb.branch_id
                """,
                logger: logger
            ) {
                var cells = RowCells(row)
                positions[try cells.next(UUID.self)] = subjects.count
                subjects.append(
                    RoundScoring.Subject(
                        code: try cells.next(String.self),
                        name: try cells.next(String.self),
                        parent: try cells.next(String?.self),
                        eligibleMembers: try cells.nextInteger()
                    )
                )
            }
        }
        return Plan(
            scoring: RoundScoring(
                configuration: configuration,
                configurationHash: round.hash,
                sheet: sheet,
                dimensionKeys: dimensionKeys,
                subjects: subjects
            ),
            positions: positions,
            tallies: [RoundConfiguration.RaterGroup.members, .public].filter { formVersions[$0] != nil }.map { group in
                TallyQuery(
                    roundID: roundID,
                    group: group,
                    dimensions: dimensionKeys[group]?.count ?? 0,
                    drop: configuration.groups[group]?.trimming.drop ?? 0,
                    fromKeptTallies: readingResponses ? false : nil
                )
            },
            readsSheets: sheet != nil
        )
    }

    /// Hands over each branch's tally of the query's group as its row arrives.
    static func read(
        _ query: TallyQuery,
        positions: [UUID: Int],
        connection: PostgresConnection,
        logger: Logger,
        _ deliver: (RoundScoring.Piece) -> Void
    ) async throws {
        for try await row in try await connection.query(query.sql, logger: logger) {
            let (branch, tally) = try query.decode(row)
            guard let index = positions[branch] else { continue }
            deliver(.tally(tally, of: query.group, subject: index))
        }
    }

    /// Hands over each branch's submitted sheets, together, in branch order: one row per sheet
    /// with the items it lost, earned and failed kept as arrays on the sheet as its entries
    /// change (sql/0027_sheet_items_kept.sql), or, `fromEntries`, gathered from the entries by
    /// the database (a check: both give the same bytes).
    static func readSheets(
        roundID: UUID,
        positions: [UUID: Int],
        fromEntries: Bool = false,
        inIndexOrder: Bool = false,
        connection: PostgresConnection,
        logger: Logger,
        _ deliver: (RoundScoring.Piece) -> Void
    ) async throws {
        let query: PostgresQuery =
            fromEntries
            ? """
            SELECT s.branch_id, (SELECT username FROM users WHERE id = s.evaluator_id),
                   e.lost_items, e.points_lost, e.earned_items, e.points_earned, e.failed_items
            FROM org_sheets s CROSS JOIN LATERAL sheet_items(s.id) e
            WHERE s.round_id = \(roundID) AND s.status = 'submitted'
            ORDER BY s.branch_id
            """
            : """
            SELECT s.branch_id, (SELECT username FROM users WHERE id = s.evaluator_id),
                   s.lost_items, s.points_lost, s.earned_items, s.points_earned, s.failed_items
            FROM org_sheets s
            WHERE s.round_id = \(roundID) AND s.status = 'submitted'
            ORDER BY s.branch_id
            """
        var branchSheets: [SheetInput] = []
        var branch: Int?
        func deliverBranch() {
            guard let branch else { return }
            deliver(.sheets(branchSheets, subject: branch))
            branchSheets = []
        }
        try await readInIndexOrder(inIndexOrder, connection: connection, logger: logger) {
            for try await row in try await connection.query(query, logger: logger) {
                var cells = RowCells(row)
                let id = try cells.next(UUID.self)
                guard let index = positions[id] else { continue }
                let evaluator = try cells.next(String.self)
                let lostItems = try cells.nextStrings()
                let lost = try cells.nextDoubles()
                let earnedItems = try cells.nextStrings()
                let earned = try cells.nextDoubles()
                let failed = try cells.nextStrings()
                if branch != index {
                    // What the adding relies on to complete subjects early (`compute`).
                    if let branch, index < branch { throw SheetsOutOfOrder() }
                    deliverBranch()
                    branch = index
                }
                branchSheets.append(
                    SheetInput(
                        evaluator: evaluator,
                        lost: Dictionary(zip(lostItems, lost), uniquingKeysWith: { first, _ in first }),
                        failedBaselines: Set(failed),
                        bonus: Dictionary(zip(earnedItems, earned), uniquingKeysWith: { first, _ in first })
                    )
                )
            }
        }
        deliverBranch()
    }

    /// Runs `read` with PostgreSQL's sort set aside when `on`, for a statement that reads in the
    /// order of an index (the branches, the sheets): its rows then come from the index row by
    /// row, from the first, instead of sorted whole before the first one (PostgreSQL's choice,
    /// with parallel workers that on a small machine take the cores the reading needs). Only for
    /// that statement: an aggregate that must sort (trimming more than one value) keeps its sort.
    static func readInIndexOrder(_ on: Bool, connection: PostgresConnection, logger: Logger, _ read: () async throws -> Void) async throws {
        guard on else { return try await read() }
        try await connection.execute("SET LOCAL enable_sort = off", logger: logger)
        try await read()
        try await connection.execute("SET LOCAL enable_sort TO DEFAULT", logger: logger)
    }

    /// The database returned a round's sheets in another order than their branches'.
    struct SheetsOutOfOrder: Error {}

    /// The round's stored configuration; a round without one (made by hand in the database)
    /// gets the method's defaults for the groups it has.
    static func configuration(_ json: String, groups weights: [RoundConfiguration.RaterGroup: Double]) -> RoundConfiguration {
        if let stored = try? JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8)) { return stored }
        var configuration = RoundConfiguration()
        configuration.groups = configuration.groups.filter { weights[$0.key] != nil }
        for (group, weight) in weights { configuration.groups[group]?.weight = weight }
        return configuration
    }

    /// The items of a score sheet the method needs.
    static func layout(_ form: FormDefinition) -> SheetLayout {
        SheetLayout(
            deductions: form.items.filter { $0.type == .deduction }.map { .init(key: $0.key, maximum: $0.maximum ?? 0) },
            baselines: form.items.filter { $0.type == .baseline }.map(\.key),
            bonuses: form.items.filter { $0.type == .bonus }.map { .init(key: $0.key, cap: $0.maximum ?? 0) }
        )
    }
}
