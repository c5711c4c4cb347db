/// Who may call what: for every route the server registers, the identities whose requests it
/// answers. `AccessPolicyTests` calls every route as every identity and compares; a route
/// missing here fails the suite, so a new route gets its policy when it is added. The same
/// table, for reading, is in docs/design.md ("Who may call what").
enum Identity: String, CaseIterable, Comparable, Sendable {
    /// A browser with no session, no token and no link.
    case anonymous
    /// A member holding their invitation link (`/s/{token}`); a browser otherwise anonymous.
    case invitationHolder
    /// Someone holding a branch's public link (`/p/{code}`).
    case publicLinkHolder
    /// Someone holding a visit code (`/v/{visit}`).
    case visitCodeHolder
    /// Someone who opened a round's publicity page (`/g/{key}`) and holds the receipt link of
    /// the objection they filed (`/o/{key}`).
    case publicityReader
    /// A branch secretary (role `viewer`) of the branch the request names.
    case secretaryOfBranch
    /// A branch secretary of another branch.
    case secretaryOfOtherBranch
    /// An evaluator assigned to the branch the request names, in its round.
    case assignedEvaluator
    /// An evaluator of the same round, assigned to another branch.
    case otherEvaluator
    case administrator
    /// An API token with the read scope (sent by an otherwise anonymous client).
    case readToken
    /// An API token with the write scope.
    case writeToken
    /// An API token with the appraisals scope (reads, and reads the members' appraisal).
    case appraisalsToken

    static func < (left: Identity, right: Identity) -> Bool {
        allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
    }
}

enum AccessPolicy {
    static let everyone = Set(Identity.allCases)
    /// Anyone signed in to the admin area, whatever their role.
    static let signedIn: Set<Identity> = [.secretaryOfBranch, .secretaryOfOtherBranch, .assignedEvaluator, .otherEvaluator, .administrator]
    static let administrators: Set<Identity> = [.administrator]
    static let evaluators: Set<Identity> = [.assignedEvaluator, .otherEvaluator]
    static let apiReaders: Set<Identity> = [.readToken, .writeToken, .appraisalsToken]

    /// Paths no route registers that are still served to anyone: the static files.
    static let unroutedPublicPaths = ["/static/kaoping.css"]

    /// Keyed by "METHOD /path" as the route was registered.
    static let table: [String: Set<Identity>] = [
        // Probes and the way in.
        "GET /healthz": everyone,
        "GET /readyz": everyone,
        "GET /": everyone,
        "GET /api/v1/openapi.yaml": everyone,
        "GET /admin/login": everyone,
        "POST /admin/login": everyone,

        // Respondents: the link or code in the path is the credential.
        "GET /s": everyone,
        "POST /s": everyone,
        "GET /s/{token}": [.invitationHolder],
        "POST /s/{token}": [.invitationHolder],
        "GET /p/{code}": [.publicLinkHolder],
        "POST /p/{code}": [.publicLinkHolder],
        "GET /v/{visit}": [.visitCodeHolder],
        "POST /v/{visit}": [.visitCodeHolder],
        "GET /g/{key}": [.publicityReader],
        "POST /g/{key}": [.publicityReader],
        "GET /o/{key}": [.publicityReader],
        // A member's appraisal link (the same holder as their invitation in the walk).
        "GET /a/{token}": [.invitationHolder],
        "GET /a/{token}/self-assessment": [.invitationHolder],
        "POST /a/{token}/self-assessment": [.invitationHolder],
        "GET /a/{token}/ballot": [.invitationHolder],
        "POST /a/{token}/ballot": [.invitationHolder],

        // Every signed-in account: its start page, its password, signing out.
        "GET /admin": signedIn,
        "GET /admin/password": signedIn,
        "POST /admin/password": signedIn,
        "POST /admin/logout": signedIn,

        // Evaluators: their list of sheets, and the sheets of the branches assigned to them.
        "GET /admin/sheets": evaluators,
        "GET /admin/sheets/{round}/{branch}": [.assignedEvaluator],
        "POST /admin/sheets/{round}/{branch}": [.assignedEvaluator],

        // A branch's report: administrators and that branch's secretary.
        "GET /admin/rounds/{id}/results/{code}": [.administrator, .secretaryOfBranch],
        // An objection to the published results, filed by that branch's secretary.
        "POST /admin/rounds/{id}/results/{code}/objections": [.secretaryOfBranch],

        // The members' appraisal: a branch's page (tallies, self-assessments, proposals) for
        // administrators and that branch's secretary; the approval and everything else for
        // administrators.
        "GET /admin/appraisals/{id}/branches/{code}": [.administrator, .secretaryOfBranch],
        "POST /admin/appraisals/{id}/branches/{code}": [.administrator, .secretaryOfBranch],
        "POST /admin/appraisals/{id}/branches/{code}/decision": administrators,
        "GET /admin/appraisals": administrators,
        "GET /admin/appraisals/new": administrators,
        "POST /admin/appraisals/new": administrators,
        "GET /admin/appraisals/{id}": administrators,
        "POST /admin/appraisals/{id}/open": administrators,
        "POST /admin/appraisals/{id}/close": administrators,
        "POST /admin/appraisals/{id}/links": administrators,
        "POST /admin/appraisals/{id}/representatives": administrators,
        "GET /admin/appraisals/{id}/slips": administrators,
        "GET /admin/appraisals/{id}/links.csv": administrators,
        "GET /admin/appraisals/{id}/results.xlsx": administrators,
        "GET /admin/appraisals/{id}/members.csv": administrators,
        "GET /admin/appraisals/{id}/summary.csv": administrators,

        // Forms.
        "GET /admin/forms": administrators,
        "GET /admin/forms/{formId}": administrators,
        "POST /admin/forms/{formId}": administrators,

        // The organisation and its imports.
        "GET /admin/org": administrators,
        "POST /admin/org/branches": administrators,
        "GET /admin/org/branches/{code}": administrators,
        "POST /admin/org/branches/{code}": administrators,
        "POST /admin/org/branches/{code}/members": administrators,
        "GET /admin/org/branches/{code}/history": [.administrator, .secretaryOfBranch],
        "POST /admin/org/branches/{code}/assessments": administrators,
        "POST /admin/org/branches/{code}/assessments/{id}": administrators,
        "GET /admin/org/members/{staff}": administrators,
        "POST /admin/org/members/{staff}": administrators,
        "POST /admin/org/units": administrators,
        "GET /admin/org/units/{code}": administrators,
        "POST /admin/org/units/{code}": administrators,
        "POST /admin/org/import": administrators,
        "GET /admin/org/templates/{file}": administrators,
        "GET /admin/org/imports/{id}": administrators,
        "POST /admin/org/imports/{id}/apply": administrators,

        // Rounds and what they hand out.
        "GET /admin/rounds": administrators,
        "GET /admin/rounds/new": administrators,
        "POST /admin/rounds": administrators,
        "GET /admin/rounds/{id}": administrators,
        "GET /admin/rounds/{id}/open": administrators,
        "POST /admin/rounds/{id}/open": administrators,
        "GET /admin/rounds/{id}/close": administrators,
        "POST /admin/rounds/{id}/close": administrators,
        "POST /admin/rounds/{id}/reopen": administrators,
        "GET /admin/rounds/{id}/edit": administrators,
        "POST /admin/rounds/{id}/edit": administrators,
        "GET /admin/rounds/{id}/delete": administrators,
        "POST /admin/rounds/{id}/delete": administrators,
        "GET /admin/rounds/{id}/cancel": administrators,
        "POST /admin/rounds/{id}/cancel": administrators,
        "POST /admin/rounds/{id}/branches": administrators,
        "POST /admin/rounds/{id}/shared-device": administrators,
        "POST /admin/rounds/{id}/extend": administrators,
        "GET /admin/rounds/{id}/publicity": administrators,
        "POST /admin/rounds/{id}/publicity": administrators,
        "GET /admin/rounds/{id}/publicity/poster": administrators,
        "GET /admin/rounds/{id}/approve": administrators,
        "POST /admin/rounds/{id}/approve": administrators,
        "POST /admin/rounds/{id}/reopen-publicity": administrators,
        "POST /admin/rounds/{id}/corrections": administrators,
        "GET /admin/objections/{id}": administrators,
        "POST /admin/objections/{id}/assign": administrators,
        "POST /admin/objections/{id}/reply": administrators,
        "POST /admin/objections/{id}/decide": administrators,
        "GET /admin/calendar": administrators,
        "POST /admin/calendar": administrators,
        "POST /admin/rounds/{id}/evaluators": administrators,
        "POST /admin/rounds/{id}/remove-evaluator": administrators,
        "POST /admin/rounds/{id}/invitations": administrators,
        "GET /admin/rounds/{id}/invitations.csv": administrators,
        "GET /admin/rounds/{id}/pending.csv": administrators,
        "GET /admin/rounds/{id}/slips": administrators,
        "GET /admin/rounds/{id}/posters/{code}": administrators,
        "POST /admin/rounds/{id}/public-access": administrators,
        "POST /admin/rounds/{id}/visit-codes": administrators,
        "GET /admin/rounds/{id}/visit-codes": administrators,

        // Results of the whole round.
        "GET /admin/rounds/{id}/results": administrators,
        "GET /admin/rounds/{id}/diagnostics": administrators,
        "GET /admin/rounds/{id}/watch": administrators,
        "GET /admin/rounds/{id}/integration": administrators,
        "GET /admin/rounds/{id}/integrated": administrators,
        "POST /admin/rounds/{id}/integrated": administrators,
        "GET /admin/rounds/{id}/results.csv": administrators,
        "GET /admin/rounds/{id}/results.xlsx": administrators,
        "GET /admin/rounds/{id}/responses.csv": administrators,
        "GET /admin/rounds/{id}/sheets.csv": administrators,
        "GET /admin/rounds/{id}/integrated.csv": administrators,
        "GET /admin/rounds/{id}/integration.csv": administrators,

        // Accounts and API tokens.
        "GET /admin/accounts": administrators,
        "POST /admin/accounts": administrators,
        "POST /admin/accounts/secretaries": administrators,
        "GET /admin/accounts/{id}/disable": administrators,
        "POST /admin/accounts/{id}/disable": administrators,
        "POST /admin/accounts/{id}/enable": administrators,
        "GET /admin/accounts/{id}/reset-password": administrators,
        "POST /admin/accounts/{id}/reset-password": administrators,
        "GET /admin/tokens": administrators,
        "POST /admin/tokens": administrators,
        "POST /admin/tokens/{id}/revoke": administrators,

        // The JSON API: a token of any scope reads, only a write token writes, only an
        // appraisals token reads the members' appraisal.
        "GET /api/v1/rounds": apiReaders,
        "GET /api/v1/branches/{code}/history": apiReaders,
        "GET /api/v1/rounds/{id}/results": apiReaders,
        "GET /api/v1/rounds/{id}/integration": apiReaders,
        "GET /api/v1/rounds/{id}/diagnostic": apiReaders,
        "POST /api/v1/performance": [.writeToken],
        "GET /api/v1/appraisals/{id}/results": [.appraisalsToken],
    ]
}
