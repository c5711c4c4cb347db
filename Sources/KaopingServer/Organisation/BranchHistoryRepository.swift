// Organisation: the office's lists (branches, members, units), performance results, reading
// them from CSV and Excel (ImportService), and each branch's record over the years.

import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// A branch's record over the years: its closed rounds, read from their frozen results (a
/// branch is the same branch across years by its code), and the committee's long-term
/// qualitative assessments (`docs/integration.md`).
public struct BranchHistoryRepository: Sendable {
    let database: Database
    let performance: PerformanceRepository

    public init(database: Database, performance: PerformanceRepository) {
        self.database = database
        self.performance = performance
    }

    /// The committee's judgement of a branch over several years.
    public enum Level: String, Sendable, CaseIterable, PostgresCodable {
        case good, fairlyGood, fair, poor
    }

    public struct Assessment: Sendable, Equatable {
        public let id: UUID
        public let firstYear: Int
        public let lastYear: Int
        public let level: Level
        public let judgement: String
        public let author: String
        public let createdAt: Date
        public let updatedAt: Date
    }

    /// Every closed round the branch took part in, oldest first. Each year's figures are the
    /// round's frozen ones; the business score is the frozen integrated sheet's if there is one,
    /// else that of the newest results of the round's performance year.
    public struct History: Sendable {
        public var years: [BranchRecord.Year]
        /// The round of each year, in the same order.
        public var rounds: [UUID]
        /// How final each year's figures are (proposed, published, signed off), in the same order.
        public var finality: [Finality] = []
        /// The member form of the newest year, whose dimension labels the page shows.
        public var memberForm: UUID?
        /// The branch's figures that corrections changed, by round, oldest first.
        public var corrections: [UUID: [(at: Date, change: ResultChange)]] = [:]
    }

    public func years(code: String) async throws -> History {
        let rows = try await database.query(
            """
            SELECT y.year, r.title, r.config::text, y.subject::text, y.ranked, v.checksum, v.id, y.business_score, r.id, r.status,
              (SELECT a.reference FROM round_approvals a WHERE a.round_id = r.id AND a.withdrawn_at IS NULL)
            FROM branch_years y
            JOIN rounds r ON r.id = y.round_id
            LEFT JOIN round_groups g ON g.round_id = r.id AND g.rater_group = 'members'
            LEFT JOIN form_versions v ON v.id = g.form_version_id
            WHERE y.branch_code = \(code) AND r.status = ANY(\(RoundStatus.withResults)::text[])
            ORDER BY y.year, r.closed_at
            """
        )
        var years: [BranchRecord.Year] = []
        var missingBusiness: [(index: Int, year: Int)] = []
        var latestMemberForm: UUID?
        var rounds: [UUID] = []
        var finality: [Finality] = []
        let decoder = JSONDecoder()
        for row in rows {
            let (year, title, configJSON, subjectJSON, ranked, memberForm, memberFormVersion, frozenBusiness, roundID, status, reference) =
                try row.decode((Int, String, String, String, Int, String?, UUID?, Double?, UUID, String, String?).self)
            guard var subject = try? decoder.decode(SubjectResult.self, from: Data(subjectJSON.utf8)) else { continue }
            subject.disclose()
            let members = subject[group: .members]
            let configuration = RoundRepository.configuration(json: configJSON)
            let entry = BranchRecord.Year(
                year: year,
                roundTitle: title,
                combined: subject.combined,
                grade: subject.grade,
                rank: subject.rank,
                ranked: ranked,
                belowQuorum: subject.status == .incomplete,
                groups: subject.groups.compactMapValues(\.score),
                dimensions: members?.dimensions.dictionary ?? [:],
                businessScore: frozenBusiness,
                memberForm: memberForm
            )
            if frozenBusiness == nil {
                missingBusiness.append((years.count, IntegratedSheets.performanceYear(configuration, roundYear: year)))
            }
            years.append(entry)
            rounds.append(roundID)
            finality.append(Finality(false, status: RoundStatus(rawValue: status) ?? .closed, approval: reference))
            latestMemberForm = memberFormVersion ?? latestMemberForm
        }
        for (index, year) in missingBusiness {
            years[index].businessScore = try await performance.businessScore(year: year, branchCode: code)
        }
        var history = History(years: years, rounds: rounds, finality: finality, memberForm: latestMemberForm)
        if !rounds.isEmpty {
            for row in try await database.query(
                "SELECT round_id, made_at, differences::text FROM result_corrections WHERE round_id = ANY(\(rounds)) ORDER BY made_at"
            ) {
                let (round, at, text) = try row.decode((UUID, Date, String).self)
                let changes = (try? decoder.decode([ResultChange].self, from: Data(text.utf8))) ?? []
                for change in changes where change.code == code { history.corrections[round, default: []].append((at, change)) }
            }
        }
        return history
    }

    /// Stores each branch's final result of a round that has just closed, in its transaction.
    static func record(roundID: UUID, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            WITH snapshot AS (
              SELECT s.round_id, r.year, s.results FROM result_snapshots s JOIN rounds r ON r.id = s.round_id
              WHERE s.round_id = \(roundID) AND s.kind = 'final'
            ), counted AS (
              SELECT count(*) FILTER (WHERE jsonb_typeof(y -> 'rank') = 'number')::int AS ranked
              FROM snapshot, jsonb_array_elements(snapshot.results -> 'subjects') y
            )
            INSERT INTO branch_years (round_id, branch_code, year, subject, ranked)
            SELECT snapshot.round_id, x.subject ->> 'code', snapshot.year, x.subject, counted.ranked
            FROM snapshot CROSS JOIN counted CROSS JOIN jsonb_array_elements(snapshot.results -> 'subjects') AS x(subject)
            ON CONFLICT (round_id, branch_code) DO NOTHING
            """,
            logger: logger
        )
    }

    /// A round still open that the branch takes part in.
    public struct OpenRound: Sendable {
        public let id: UUID
        public let year: Int
        public let title: String
        public let performanceYear: Int
        public let memberForm: String?
        public let memberFormVersion: UUID?
    }

    public func openRounds(code: String) async throws -> [OpenRound] {
        try await database.query(
            """
            SELECT r.id, r.year, r.title, r.config::text, v.checksum, v.id
            FROM rounds r JOIN round_branches rb ON rb.round_id = r.id JOIN branches b ON b.id = rb.branch_id
            LEFT JOIN round_groups g ON g.round_id = r.id AND g.rater_group = 'members'
            LEFT JOIN form_versions v ON v.id = g.form_version_id
            WHERE b.code = \(code) AND r.status = \(RoundStatus.open)
            ORDER BY r.year, r.opened_at
            """
        ).map { row in
            let (id, year, title, config, checksum, version) = try row.decode((UUID, Int, String, String, String?, UUID?).self)
            let performanceYear = IntegratedSheets.performanceYear(RoundRepository.configuration(json: config), roundYear: year)
            return OpenRound(id: id, year: year, title: title, performanceYear: performanceYear, memberForm: checksum, memberFormVersion: version)
        }
    }

    /// The grades of a round (the branch's newest), highest first: what "top" and "lowest" mean.
    public func grades(of round: UUID?) async throws -> [String] {
        guard let round, let json = try await database.query("SELECT config::text FROM rounds WHERE id = \(round)").first?.decode(String.self)
        else { return RoundConfiguration.defaultBands.map(\.grade) }
        return RoundRepository.configuration(json: json).bands.map(\.grade)
    }

    public func assessments(code: String) async throws -> [Assessment] {
        try await assessmentRows(code: code, covering: nil).map(\.assessment)
    }

    /// Every branch's assessments whose period includes the year, by branch code, for the downloads.
    public func assessments(covering year: Int) async throws -> [(code: String, assessment: Assessment)] {
        try await assessmentRows(code: nil, covering: year)
    }

    private func assessmentRows(code: String?, covering year: Int?) async throws -> [(code: String, assessment: Assessment)] {
        try await database.query(
            """
            SELECT b.code, a.id, a.first_year, a.last_year, a.level, a.judgement, a.author_name, a.created_at, a.updated_at
            FROM branch_assessments a JOIN branches b ON b.id = a.branch_id
            WHERE (\(code)::text IS NULL OR b.code = \(code))
              AND (\(year)::int IS NULL OR \(year) BETWEEN a.first_year AND a.last_year)
            ORDER BY b.code, a.last_year DESC, a.created_at DESC
            """
        ).map { row in
            let (code, id, first, last, level, judgement, author, created, updated) = try row.decode(
                (String, UUID, Int, Int, Level, String, String, Date, Date).self
            )
            let assessment = Assessment(
                id: id,
                firstYear: first,
                lastYear: last,
                level: level,
                judgement: judgement,
                author: author,
                createdAt: created,
                updatedAt: updated
            )
            return (code, assessment)
        }
    }

    /// What a person entered for an assessment, checked before it is stored.
    public struct AssessmentDraft: Sendable {
        public var firstYear: Int?
        public var lastYear: Int?
        public var level: Level?
        public var judgement: String

        public init(firstYear: Int?, lastYear: Int?, level: Level?, judgement: String) {
            self.firstYear = firstYear
            self.lastYear = lastYear
            self.level = level
            self.judgement = judgement
        }

        /// Keys of the text catalogue, one per problem.
        public var problems: [String] {
            var problems: [String] = []
            if let first = firstYear, let last = lastYear {
                if !EvaluationYear.plausible.contains(first) || !EvaluationYear.plausible.contains(last) {
                    problems.append("assessment_year_range")
                } else if last < first {
                    problems.append("assessment_years_order")
                }
            } else {
                problems.append("assessment_years_missing")
            }
            if level == nil { problems.append("assessment_level_missing") }
            let text = judgement.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { problems.append("assessment_judgement_missing") }
            if text.count > 4000 { problems.append("assessment_judgement_long") }
            return problems
        }
    }

    /// Adds an assessment (`id` nil) or changes one of the branch's; `false` if there is no
    /// such branch or assessment. The audit log keeps what it said before.
    public func save(_ draft: AssessmentDraft, id: UUID?, code: String, actor: AuditActor, logger: Logger) async throws -> Bool {
        guard draft.problems.isEmpty, let first = draft.firstYear, let last = draft.lastYear, let level = draft.level else { return false }
        let judgement = draft.judgement.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await database.transaction(logger: logger) { connection in
            var before: [String: String] = [:]
            var saved: UUID?
            if let id {
                var found: (Int, Int, String, String)?
                for try await row in try await connection.query(
                    """
                    SELECT a.first_year, a.last_year, a.level, a.judgement FROM branch_assessments a JOIN branches b ON b.id = a.branch_id
                    WHERE a.id = \(id) AND b.code = \(code) FOR UPDATE OF a
                    """,
                    logger: logger
                ).decode((Int, Int, String, String).self) { found = row }
                guard let (oldFirst, oldLast, oldLevel, oldJudgement) = found else { return false }
                before = ["before_years": "\(oldFirst)-\(oldLast)", "before_level": oldLevel, "before_judgement": oldJudgement]
                for try await row in try await connection.query(
                    """
                    UPDATE branch_assessments SET first_year = \(first), last_year = \(last), level = \(level), judgement = \(judgement),
                      updated_at = now()
                    WHERE id = \(id) RETURNING id
                    """,
                    logger: logger
                ).decode(UUID.self) { saved = row }
            } else {
                for try await row in try await connection.query(
                    """
                    INSERT INTO branch_assessments (branch_id, first_year, last_year, level, judgement, author_id, author_name)
                    SELECT id, \(first), \(last), \(level), \(judgement), \(actor.userID), \(actor.name) FROM branches WHERE code = \(code)
                    RETURNING id
                    """,
                    logger: logger
                ).decode(UUID.self) { saved = row }
            }
            guard let saved else { return false }
            try await AuditLog.record(
                .init(
                    action: id == nil ? "assessment.created" : "assessment.changed",
                    actor: actor,
                    subject: code,
                    details: before.merging([
                        "id": saved.uuidString.lowercased(), "years": "\(first)-\(last)", "level": level.rawValue, "judgement": judgement,
                    ]) { $1 }
                ),
                on: connection,
                logger: logger
            )
            return true
        }
    }

    /// The branches of a round on the committee's lists, by the last closed rounds up to the
    /// round's year (the round itself once closed; for an open round, the years before it),
    /// read straight from the frozen results; each with the years that put it there (its last
    /// two for rectification, its last three for commendation).
    public func watchList(
        upToYear year: Int,
        codes: Set<String>,
        grades: [String]
    ) async throws -> [(code: String, watch: BranchRecord.Watch, years: [BranchRecord.Year])] {
        let rows = try await database.query(
            """
            SELECT y.branch_code, y.year, y.subject ->> 'grade', y.subject ->> 'status'
            FROM branch_years y JOIN rounds r ON r.id = y.round_id
            WHERE r.status = ANY(\(RoundStatus.withResults)::text[]) AND y.year BETWEEN \(year - 3) AND \(year)
            ORDER BY 1, y.year, r.closed_at
            """
        )
        var byCode: [String: [BranchRecord.Year]] = [:]
        for row in rows {
            let (code, roundYear, grade, status) = try row.decode((String, Int, String?, String).self)
            guard codes.contains(code) else { continue }
            byCode[code, default: []].append(
                BranchRecord.Year(
                    year: roundYear,
                    roundTitle: "",
                    combined: nil,
                    grade: grade,
                    rank: nil,
                    ranked: 0,
                    belowQuorum: status == "incomplete",
                    groups: [:],
                    dimensions: [:],
                    businessScore: nil,
                    memberForm: nil
                )
            )
        }
        return byCode.keys.sorted().compactMap { code in
            let years = byCode[code]!
            return BranchRecord.watch(years, grades: grades).map { watch in
                (code, watch, Array(years.suffix(watch == .rectification ? 2 : 3)))
            }
        }
    }
}
