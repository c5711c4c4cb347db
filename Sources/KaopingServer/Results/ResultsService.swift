import Foundation
import KaopingAggregation
import KaopingForms
import Logging

/// What the committee reads of a round: its results as they stand, its integrated sheet and its
/// two-skins diagnostic. The pages, the API, the downloads, the command line and
/// `ResultsWarmingService` all read through the one instance `KaopingServices` makes, so what
/// one has read or computed the others find ready.
public struct ResultsService: Sendable {
    public let rounds: RoundRepository
    public let results: ResultsRepository
    public let integratedSheets: IntegratedSheets
    public let performance: PerformanceRepository
    public let history: BranchHistoryRepository
    public let organisation: OrganisationRepository
    /// A closed round's diagnostic changes only when its year's business results are loaded
    /// again: it is computed once per version (a province's takes a few hundred milliseconds).
    let diagnostics = TimedCache<DiagnosticKey, Diagnostic>(lifetime: .seconds(3600), capacity: 8)

    public init(
        rounds: RoundRepository,
        results: ResultsRepository,
        integratedSheets: IntegratedSheets,
        performance: PerformanceRepository,
        history: BranchHistoryRepository,
        organisation: OrganisationRepository
    ) {
        self.rounds = rounds
        self.results = results
        self.integratedSheets = integratedSheets
        self.performance = performance
        self.history = history
        self.organisation = organisation
    }

    /// A round with its configuration, as every results output needs it.
    public struct Round: Sendable {
        public let summary: RoundSummary
        public let configuration: RoundConfiguration

        public var id: UUID { summary.id }
        /// The year whose business results the round is read with.
        public var performanceYear: Int { IntegratedSheets.performanceYear(configuration, roundYear: summary.year) }
    }

    /// A round whose results can be read: a cancelled one has none to show.
    public func round(_ id: UUID) async throws -> Round? {
        guard let summary = try await rounds.round(id), summary.status != .cancelled else { return nil }
        return Round(summary: summary, configuration: try await rounds.configuration(id) ?? RoundConfiguration())
    }

    /// The round's results as they stand (`ResultsRepository.current`).
    public func current(_ round: Round, logger: Logger) async throws -> CurrentResults? {
        try await results.current(roundID: round.id, logger: logger)
    }

    /// The round's integrated sheet, read with its own performance year and settings.
    public func integratedSheet(_ round: Round, _ current: CurrentResults, logger: Logger) async throws -> CurrentIntegratedSheet? {
        try await integratedSheets.current(
            roundID: round.id,
            roundYear: round.summary.year,
            configuration: round.configuration,
            results: current,
            logger: logger
        )
    }

    /// The two-skins diagnostic with the year it reads; `diagnostic` is `nil` while fewer than
    /// two branches have both scores.
    public struct Diagnostic: Sendable {
        public let year: Int
        public let diagnostic: IntegrationDiagnostic?
        /// The members' form, whose dimension labels the outputs show.
        public let memberForm: FormDefinition?
        /// What a closed round's diagnostic is kept under; `nil` while the round is open.
        var kept: DiagnosticKey? = nil
    }

    struct DiagnosticKey: Hashable, Sendable {
        let round: UUID
        let computedAt: Date
        let performanceVersion: Int?
    }

    /// Freezes a closed round's integrated sheet again with the newest version of its year's
    /// performance results: a decision someone takes, so it is audited. An open round's sheet
    /// follows the newest version by itself, and there is nothing to adopt.
    public func adoptNewestPerformanceVersion(_ round: Round, actor: AuditActor, logger: Logger) async throws {
        guard round.summary.status.canCorrect else { throw RoundError.wrongStatus(current: round.summary.status, action: .corrected) }
        _ = try await integratedSheets.freeze(roundID: round.id, version: nil, actor: actor, logger: logger)
    }

    /// The round's diagnostic against the newest business results of its year.
    public func diagnostic(_ round: Round, _ current: CurrentResults) async throws -> Diagnostic {
        let year = round.performanceYear
        // Only a closed round's diagnostic is kept, until its year's results are loaded again.
        var key: DiagnosticKey?
        if !current.provisional {
            key = DiagnosticKey(round: round.id, computedAt: current.computedAt, performanceVersion: try await performance.newestVersion(year: year))
        }
        if let key, let ready = diagnostics.value(for: key) { return ready }
        let business = try await performance.businessScores(year: year)
        let memberForm = try await results.groupForms(roundID: round.id)[RoundConfiguration.RaterGroup.members.rawValue]
        let settings = round.configuration.integrationSettings
        let subjects = current.result.subjects.map { subject in
            let members = subject.groups[RoundConfiguration.RaterGroup.members.rawValue]
            return IntegrationDiagnostic.Subject(
                code: subject.code,
                name: subject.name,
                party: subject.combined,
                memberDimensions: members?.breakdownShown == true ? members?.dimensions.dictionary : nil
            )
        }
        let diagnostic = Diagnostic(
            year: year,
            diagnostic: IntegrationDiagnostic.make(
                subjects: subjects,
                business: business,
                lines: (settings.businessLine, settings.partyLine),
                dimensionKeys: (memberForm?.dimensions ?? []).map(\.key)
            ),
            memberForm: memberForm,
            kept: key
        )
        if let key { diagnostics.store(diagnostic, for: key) }
        return diagnostic
    }

    /// Reads a closed round's results and integrated sheet and computes its diagnostic, unless
    /// they are ready, so that nobody waits for them (`ResultsWarmingService`).
    public func warm(roundID: UUID, logger: Logger) async throws {
        guard let round = try await round(roundID), round.summary.status.hasResults,
            let current = try await current(round, logger: logger), !current.provisional
        else { return }
        _ = try await integratedSheet(round, current, logger: logger)
        _ = try await diagnostic(round, current)
    }

    /// A branch's record over the years: its closed rounds, then any round still open with its
    /// provisional figures. An open round counts for nothing else (the trend and the lists read
    /// closed rounds only).
    public struct BranchRecordSoFar: Sendable {
        public var history: BranchHistoryRepository.History
        /// How many of `history.years` are closed rounds (the first ones).
        public let closedCount: Int
        /// The positions in `history.years` of open rounds.
        public var provisional: Set<Int>
        /// The closed years alone.
        public var closedYears: ArraySlice<BranchRecord.Year> { history.years.prefix(closedCount) }
    }

    public func branchRecord(code: String, logger: Logger) async throws -> BranchRecordSoFar {
        let closed = try await history.years(code: code)
        var record = BranchRecordSoFar(history: closed, closedCount: closed.years.count, provisional: [])
        for round in try await history.openRounds(code: code) {
            guard let current = try? await results.current(roundID: round.id, logger: logger),
                let subject = current.result.subjects.first(where: { $0.code == code })
            else { continue }
            record.provisional.insert(record.history.years.count)
            let members = subject.groups[RoundConfiguration.RaterGroup.members.rawValue]
            record.history.years.append(
                BranchRecord.Year(
                    year: round.year,
                    roundTitle: round.title,
                    combined: subject.combined,
                    grade: subject.grade,
                    rank: subject.rank,
                    ranked: current.result.subjects.filter { $0.rank != nil }.count,
                    belowQuorum: subject.status == .incomplete,
                    groups: subject.groups.compactMapValues(\.score),
                    dimensions: members.flatMap { $0.breakdownShown ? $0.dimensions.dictionary : nil } ?? [:],
                    businessScore: try await performance.businessScore(year: round.performanceYear, branchCode: code),
                    memberForm: round.memberForm
                )
            )
            record.history.rounds.append(round.id)
            record.history.finality.append(.provisional)
            record.history.memberForm = round.memberFormVersion ?? record.history.memberForm
        }
        return record
    }

    /// Who may read a branch's results: administrators every branch's, a branch secretary (a
    /// viewer account) their own branch's only, evaluators none.
    public func mayRead(branchCode: String, user: User) async throws -> Bool {
        switch user.role {
        case .admin: return true
        case .evaluator: return false
        case .viewer:
            guard let branch = user.branchID else { return false }
            return try await organisation.branchCode(id: branch) == branchCode
        }
    }

    /// The ids of the newest closed rounds, newest first.
    public func newestClosedRounds(_ count: Int) async throws -> [UUID] {
        try await rounds.newestClosed(count)
    }
}
