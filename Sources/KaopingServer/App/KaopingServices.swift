// App: the one place every repository and service is made (KaopingServices.make).

import Foundation
import Logging

/// Everything the office does and everything it is stored in, each made once: the
/// repositories (SQL), the services that the pages, the API and the command line share, and the
/// caches, which are members of the one instance that owns them. `KaopingServices.make` is the
/// only place that initialises a repository (tests aside); the server, the command line and
/// the tests all start from it.
public struct KaopingServices: Sendable {
    public let database: Database
    /// Where the results are read from: a standby's pool (`--read-database-url`), else
    /// `database`.
    public let reads: Database
    /// The forms in the forms directory, as they are now.
    public let catalog: FormCatalog
    public let seal: BallotSeal

    // Repositories.
    public let audit: AuditLog
    public let users: UserRepository
    public let sessions: PostgresPersistDriver
    public let loginThrottle: LoginThrottle
    public let apiTokens: APITokenRepository
    public let forms: FormRepository
    public let organisation: OrganisationRepository
    public let performance: PerformanceRepository
    public let branchHistory: BranchHistoryRepository
    public let roundRepository: RoundRepository
    public let sheets: SheetRepository
    public let invitations: InvitationRepository
    public let visitCodes: VisitCodeRepository
    public let responses: ResponseRepository
    public let ballots: BallotBox
    public let resultsRepository: ResultsRepository
    /// The tallies kept of the responses, on the primary (what they are checked against).
    public let tallies: TallyRepository

    // Services.
    public let rounds: RoundService
    public let handouts: HandoutService
    public let scoreSheets: SheetService
    public let organisationService: OrganisationService
    public let imports: ImportService
    public let tokens: TokenService
    public let accounts: AccountService
    public let results: ResultsService
    public let downloads: DownloadService
    public let publicity: PublicityService
    public let objections: ObjectionService
    public let corrections: CorrectionService
    public let appraisals: AppraisalService
    /// The appraisals as the branch records read them: on `reads`.
    public let appraisalRecords: AppraisalRepository

    /// Builds every dependency from the database, the forms and the secret the invitation
    /// tokens and the ballot key are derived from.
    ///
    /// With `readDatabase` (a standby's pool), what reads results — the ranking, the reports,
    /// the diagnostic, the integrated sheet, the records, the downloads and the read API, all
    /// through `results` and `downloads` — reads from it; whatever writes, the respondents'
    /// pages, the mixer and the close use `database` alone.
    public static func make(
        database: Database,
        readDatabase: Database? = nil,
        catalog: FormCatalog,
        invitationSecret: [UInt8],
        mixPace: Duration = .seconds(30),
        passwordHasher: PasswordHasher = PasswordHasher(),
        logger: Logger
    ) -> KaopingServices {
        let seal = BallotSeal(secret: invitationSecret)
        let tokens = InvitationTokens(secret: invitationSecret)
        let forms = FormRepository(database: database)
        let organisation = OrganisationRepository(database: database)
        let performance = PerformanceRepository(database: database)
        let branchHistory = BranchHistoryRepository(database: database, performance: performance)
        let rounds = RoundRepository(database: database, forms: catalog, frozenForms: forms, seal: seal)
        let reads = readDatabase ?? database
        // The results' own repositories on `reads`: with a standby they are other instances than
        // the ones that write, with caches of their own.
        let readForms = readDatabase == nil ? forms : FormRepository(database: reads)
        let readPerformance = readDatabase == nil ? performance : PerformanceRepository(database: reads)
        let readHistory = readDatabase == nil ? branchHistory : BranchHistoryRepository(database: reads, performance: readPerformance)
        let readRounds = readDatabase == nil ? rounds : RoundRepository(database: reads, forms: catalog, frozenForms: readForms, seal: seal)
        let resultsRepository = ResultsRepository(database: reads, forms: readForms, history: readHistory)
        let integratedSheets = IntegratedSheets(database: database, reads: reads, performance: readPerformance)
        let apiTokens = APITokenRepository(database: database)
        let invitations = InvitationRepository(database: database, tokens: tokens)
        let sheets = SheetRepository(database: database)
        let visitCodes = VisitCodeRepository(database: database, tokens: tokens)
        let results = ResultsService(
            rounds: readRounds,
            results: resultsRepository,
            integratedSheets: integratedSheets,
            performance: readPerformance,
            history: readHistory,
            organisation: organisation
        )
        let publicity = PublicityRepository(database: database)
        let users = UserRepository(database: database)
        let sessions = PostgresPersistDriver(database: database, logger: logger)
        return KaopingServices(
            database: database,
            reads: reads,
            catalog: catalog,
            seal: seal,
            audit: AuditLog(database: database),
            users: users,
            sessions: sessions,
            loginThrottle: LoginThrottle(database: database),
            apiTokens: apiTokens,
            forms: forms,
            organisation: organisation,
            performance: performance,
            branchHistory: branchHistory,
            roundRepository: rounds,
            sheets: sheets,
            invitations: invitations,
            visitCodes: visitCodes,
            responses: ResponseRepository(database: database, seal: seal),
            ballots: BallotBox(database: database, seal: seal, pace: mixPace),
            resultsRepository: resultsRepository,
            tallies: TallyRepository(database: database),
            rounds: RoundService(database: database, rounds: rounds, sheets: sheets, invitations: invitations),
            handouts: HandoutService(database: database, invitations: invitations, visitCodes: visitCodes),
            scoreSheets: SheetService(database: database, sheets: sheets, forms: forms, results: resultsRepository),
            organisationService: OrganisationService(database: database, organisation: organisation, performance: performance),
            imports: ImportService(database: database, organisation: organisation, performance: performance),
            tokens: TokenService(database: database, tokens: apiTokens),
            accounts: AccountService(
                database: database,
                users: users,
                organisation: organisation,
                sessions: sessions,
                tokens: apiTokens,
                hasher: passwordHasher
            ),
            results: results,
            downloads: DownloadService(results: results, forms: readForms, invitations: invitations, publicity: publicity, database: reads),
            publicity: PublicityService(
                database: database,
                repository: publicity,
                calendar: CalendarRepository(database: database)
            ),
            objections: ObjectionService(database: database, tokens: tokens),
            corrections: CorrectionService(database: database, forms: forms),
            appraisals: AppraisalService(database: database, repository: AppraisalRepository(database: database, tokens: tokens, seal: seal)),
            appraisalRecords: AppraisalRepository(database: reads, tokens: tokens, seal: seal)
        )
    }

    /// Freezes every form as it is now, so that rounds can refer to an exact version.
    public func freezeForms() async throws {
        for form in catalog.forms { _ = try await forms.freeze(form) }
    }
}
