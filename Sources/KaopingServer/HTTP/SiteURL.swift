import Foundation
import Hummingbird

/// Every page, action and download of the site, as a value. The routes are registered from it
/// and every link, form action and redirect is built from it, so that the two cannot drift
/// apart: a path is written once, here.
///
/// A case's path parameters are text; to register a route, give each parameter its
/// placeholder (`SiteURL.round(SiteURL.id)` is the pattern `/admin/rounds/{id}`), and to link
/// to a page, give the value (`SiteURL.round(id)` with a round's id).
public enum SiteURL: Sendable, Hashable {
    // Everyone.
    case root
    case invitation(token: String)
    /// Where a member types the short code from their slip instead of scanning it.
    case codeEntry
    case publicLink(code: String)
    case visitCode(code: String)
    /// A round's publicity page (公示), at its unguessable key.
    case publicity(key: String)
    /// Where an objection's filer follows it, at the secret handed to them on filing.
    case objectionStatus(key: String)
    /// A member's (or representative's) link to the members' appraisal, with its two forms.
    case appraisalLink(token: String)
    case appraisalSelfAssessment(token: String)
    case appraisalBallot(token: String)
    case healthz, readyz, metrics
    case staticFiles

    // Signing in and out.
    case admin
    case login
    case logout
    case password

    // Rounds.
    case rounds
    case newRound
    case round(String)
    case roundAction(String, RoundPageAction)
    case invitationsCSV(String)
    case pendingCSV(String)
    case slips(String)
    case visitCodeSlips(String)
    case poster(String, publicCode: String)
    case publicityPoster(String)
    case objection(String)
    case objectionAction(String, ObjectionAction)
    /// Where a branch's secretary files an objection from the branch's report.
    case branchObjections(String, branchCode: String)
    case calendar

    // The members' appraisal.
    case appraisals
    case newAppraisal
    case appraisal(String)
    case appraisalAction(String, AppraisalAction)
    case appraisalSlips(String)
    case appraisalLinksCSV(String)
    case appraisalDownload(String, AppraisalDownload)
    /// A branch's committee page: tallies, self-assessments and proposals.
    case appraisalBranch(String, branchCode: String)
    /// Where an administrator approves or returns a branch's proposals.
    case appraisalDecision(String, branchCode: String)

    // Results.
    case results(String)
    case diagnostics(String)
    case integration(String)
    case integrationCSV(String)
    case integratedSheet(String)
    case integratedCSV(String)
    case watchList(String)
    case resultsCSV(String)
    case resultsXLSX(String)
    case responsesCSV(String)
    case sheetsCSV(String)
    case branchReport(String, branchCode: String)

    // The organisation.
    case organisation
    case organisationImport
    case organisationImportPreview(String)
    case organisationImportApply(String)
    /// A blank list to fill in: `members.xlsx`, `branches.csv`, …
    case importTemplate(file: String)
    case branches
    case branch(String)
    case branchMembers(String)
    case branchHistory(String)
    case branchAssessments(String)
    case branchAssessment(String, id: String)
    case member(String)
    case units
    case unit(String)

    // Accounts.
    case accounts
    case secretaryAccounts
    case accountAction(String, AccountAction)

    // Score sheets, forms, tokens.
    case sheets
    case sheet(round: String, branch: String)
    case forms
    case form(String)
    case tokens
    case tokenRevoke(String)

    // The JSON API.
    case apiOpenAPI
    case apiRounds
    case apiRoundResults(String)
    case apiRoundIntegration(String)
    case apiRoundDiagnostic(String)
    case apiBranchHistory(String)
    case apiPerformance
    case apiAppraisalResults(String)

    /// What a round's page can ask to be done to the round (each a POST, some with a GET that
    /// asks for confirmation first).
    public enum RoundPageAction: String, Sendable, Hashable {
        case open, close, extend, reopen, invitations, evaluators, edit, delete, cancel, branches
        case sharedDevice = "shared-device"
        case removeEvaluator = "remove-evaluator"
        case publicAccess = "public-access"
        case visitCodes = "visit-codes"
        case publicity, approve, corrections
        case reopenPublicity = "reopen-publicity"
    }

    /// What an appraisal round's page can ask to be done (each a POST).
    public enum AppraisalAction: String, Sendable, Hashable {
        case open, close, links, representatives
    }

    /// What an administrator does with an objection (each a POST).
    public enum ObjectionAction: String, Sendable, Hashable {
        case assign, reply, decide
    }

    /// What the accounts page can do to one account (each a POST).
    public enum AccountAction: String, Sendable, Hashable {
        case disable, enable
        case resetPassword = "reset-password"
    }

    // MARK: Placeholders for registering routes

    public static let id = "{id}"
    public static let code = "{code}"
    public static let token = "{token}"
    public static let visit = "{visit}"
    public static let staff = "{staff}"
    public static let file = "{file}"
    public static let formID = "{formId}"
    public static let roundParameter = "{round}"
    public static let branchParameter = "{branch}"
    public static let key = "{key}"

    /// Where the admin area starts: its session cookie is scoped to it, and the return address
    /// after signing in must lie inside it.
    public static let adminPrefix = "/admin"
    /// Where the JSON API starts: its errors are JSON, and it takes tokens, not CSRF fields.
    public static let apiPrefix = "/api/"

    // MARK: Paths

    /// The path, each value percent-encoded as a path segment (a branch code may hold any
    /// character an administrator typed).
    public var path: String {
        switch self {
        case .root: "/"
        case .invitation(let token): "/s/\(Self.segment(token))"
        case .codeEntry: "/s"
        case .publicLink(let code): "/p/\(Self.segment(code))"
        case .visitCode(let code): "/v/\(Self.segment(code))"
        case .publicity(let key): "/g/\(Self.segment(key))"
        case .objectionStatus(let key): "/o/\(Self.segment(key))"
        case .appraisalLink(let token): "/a/\(Self.segment(token))"
        case .appraisalSelfAssessment(let token): "\(SiteURL.appraisalLink(token: token).path)/self-assessment"
        case .appraisalBallot(let token): "\(SiteURL.appraisalLink(token: token).path)/ballot"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .staticFiles: "/static"

        case .admin: Self.adminPrefix
        case .login: "/admin/login"
        case .logout: "/admin/logout"
        case .password: "/admin/password"

        case .rounds: "/admin/rounds"
        case .newRound: "/admin/rounds/new"
        case .round(let id): "/admin/rounds/\(Self.segment(id))"
        case .roundAction(let id, let action): "\(SiteURL.round(id).path)/\(action.rawValue)"
        case .invitationsCSV(let id): "\(SiteURL.round(id).path)/invitations.csv"
        case .pendingCSV(let id): "\(SiteURL.round(id).path)/pending.csv"
        case .slips(let id): "\(SiteURL.round(id).path)/slips"
        case .visitCodeSlips(let id): "\(SiteURL.round(id).path)/visit-codes"
        case .poster(let id, let code): "\(SiteURL.round(id).path)/posters/\(Self.segment(code))"
        case .publicityPoster(let id): "\(SiteURL.roundAction(id, .publicity).path)/poster"
        case .objection(let id): "/admin/objections/\(Self.segment(id))"
        case .objectionAction(let id, let action): "\(SiteURL.objection(id).path)/\(action.rawValue)"
        case .branchObjections(let id, let code): "\(SiteURL.branchReport(id, branchCode: code).path)/objections"
        case .calendar: "/admin/calendar"

        case .appraisals: "/admin/appraisals"
        case .newAppraisal: "/admin/appraisals/new"
        case .appraisal(let id): "/admin/appraisals/\(Self.segment(id))"
        case .appraisalAction(let id, let action): "\(SiteURL.appraisal(id).path)/\(action.rawValue)"
        case .appraisalSlips(let id): "\(SiteURL.appraisal(id).path)/slips"
        case .appraisalLinksCSV(let id): "\(SiteURL.appraisal(id).path)/links.csv"
        case .appraisalDownload(let id, let download):
            "\(SiteURL.appraisal(id).path)/\(download == .workbook ? "results" : download.rawValue).\(download.fileExtension)"
        case .appraisalBranch(let id, let code): "\(SiteURL.appraisal(id).path)/branches/\(Self.segment(code))"
        case .appraisalDecision(let id, let code): "\(SiteURL.appraisalBranch(id, branchCode: code).path)/decision"

        case .results(let id): "\(SiteURL.round(id).path)/results"
        case .diagnostics(let id): "\(SiteURL.round(id).path)/diagnostics"
        case .integration(let id): "\(SiteURL.round(id).path)/integration"
        case .integrationCSV(let id): "\(SiteURL.round(id).path)/integration.csv"
        case .integratedSheet(let id): "\(SiteURL.round(id).path)/integrated"
        case .integratedCSV(let id): "\(SiteURL.round(id).path)/integrated.csv"
        case .watchList(let id): "\(SiteURL.round(id).path)/watch"
        case .resultsCSV(let id): "\(SiteURL.round(id).path)/results.csv"
        case .resultsXLSX(let id): "\(SiteURL.round(id).path)/results.xlsx"
        case .responsesCSV(let id): "\(SiteURL.round(id).path)/responses.csv"
        case .sheetsCSV(let id): "\(SiteURL.round(id).path)/sheets.csv"
        case .branchReport(let id, let code): "\(SiteURL.results(id).path)/\(Self.segment(code))"

        case .organisation: "/admin/org"
        case .organisationImport: "/admin/org/import"
        case .organisationImportPreview(let id): "/admin/org/imports/\(Self.segment(id))"
        case .organisationImportApply(let id): "\(SiteURL.organisationImportPreview(id).path)/apply"
        case .importTemplate(let file): "/admin/org/templates/\(Self.segment(file))"
        case .branches: "/admin/org/branches"
        case .branch(let code): "/admin/org/branches/\(Self.segment(code))"
        case .branchMembers(let code): "\(SiteURL.branch(code).path)/members"
        case .branchHistory(let code): "\(SiteURL.branch(code).path)/history"
        case .branchAssessments(let code): "\(SiteURL.branch(code).path)/assessments"
        case .branchAssessment(let code, let id): "\(SiteURL.branchAssessments(code).path)/\(Self.segment(id))"
        case .member(let staff): "/admin/org/members/\(Self.segment(staff))"
        case .units: "/admin/org/units"
        case .unit(let code): "/admin/org/units/\(Self.segment(code))"

        case .accounts: "/admin/accounts"
        case .secretaryAccounts: "/admin/accounts/secretaries"
        case .accountAction(let id, let action): "/admin/accounts/\(Self.segment(id))/\(action.rawValue)"

        case .sheets: "/admin/sheets"
        case .sheet(let round, let branch): "/admin/sheets/\(Self.segment(round))/\(Self.segment(branch))"
        case .forms: "/admin/forms"
        case .form(let id): "/admin/forms/\(Self.segment(id))"
        case .tokens: "/admin/tokens"
        case .tokenRevoke(let id): "/admin/tokens/\(Self.segment(id))/revoke"

        case .apiOpenAPI: "\(Self.apiPrefix)v1/openapi.yaml"
        case .apiRounds: "\(Self.apiPrefix)v1/rounds"
        case .apiRoundResults(let id): "\(SiteURL.apiRounds.path)/\(Self.segment(id))/results"
        case .apiRoundIntegration(let id): "\(SiteURL.apiRounds.path)/\(Self.segment(id))/integration"
        case .apiRoundDiagnostic(let id): "\(SiteURL.apiRounds.path)/\(Self.segment(id))/diagnostic"
        case .apiPerformance: "\(Self.apiPrefix)v1/performance"
        case .apiAppraisalResults(let id): "\(Self.apiPrefix)v1/appraisals/\(Self.segment(id))/results"
        case .apiBranchHistory(let code): "\(Self.apiPrefix)v1/branches/\(Self.segment(code))/history"
        }
    }

    /// The path with a query, each value percent-encoded.
    public func path(_ query: KeyValuePairs<String, String>) -> String {
        path(query.map { ($0.key, $0.value) })
    }

    /// The path with a query made up as it goes, in order.
    public func path(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\($0.0)=\(URLText.query($0.1))" }.joined(separator: "&")
    }

    /// Whether `path` is a respondent's page (an invitation, a public link, a visit code), whose
    /// errors are told in the respondents' plain words.
    public static func isRespondentPath(_ path: String) -> Bool {
        path == SiteURL.codeEntry.path || ["/s/", "/p/", "/v/", "/g/", "/o/", "/a/"].contains { path.hasPrefix($0) }
    }

    /// The route pattern for registering this kind of URL (its parameters are placeholders).
    public var route: RouterPath { RouterPath(path) }

    /// The full address for people outside (in links handed out, QR codes, CSV files).
    public func absolute(base: String) -> String { base + path }

    // MARK: Typed values

    public static func round(_ id: UUID) -> SiteURL { .round(id.lowercased) }
    public static func roundAction(_ id: UUID, _ action: RoundPageAction) -> SiteURL { .roundAction(id.lowercased, action) }
    public static func results(_ id: UUID) -> SiteURL { .results(id.lowercased) }
    public static func branchReport(_ id: UUID, branchCode: String) -> SiteURL { .branchReport(id.lowercased, branchCode: branchCode) }
    public static func appraisal(_ id: UUID) -> SiteURL { .appraisal(id.lowercased) }
    public static func appraisalAction(_ id: UUID, _ action: AppraisalAction) -> SiteURL { .appraisalAction(id.lowercased, action) }
    public static func appraisalBranch(_ id: UUID, branchCode: String) -> SiteURL { .appraisalBranch(id.lowercased, branchCode: branchCode) }
    public static func objection(_ id: UUID) -> SiteURL { .objection(id.lowercased) }
    public static func objectionAction(_ id: UUID, _ action: ObjectionAction) -> SiteURL { .objectionAction(id.lowercased, action) }

    /// A placeholder stays as it is, so that the path is a route pattern.
    private static func segment(_ value: String) -> String {
        value.hasPrefix("{") && value.hasSuffix("}") ? value : URLText.pathSegment(value)
    }
}

extension UUID {
    /// The form every URL and every log line uses.
    var lowercased: String { uuidString.lowercased() }
}

extension Response {
    /// A 303 redirect to a page of the site.
    static func seeOther(_ url: SiteURL, _ query: KeyValuePairs<String, String> = [:]) -> Response {
        .seeOther(url.path(query))
    }
}
