import Foundation
import Hummingbird
import Logging

/// Branches, members and units: the lists, and adding, editing and deactivating one at a time.
/// Importing whole lists is `ImportsController`'s.
public struct OrganisationController: Sendable {
    let organisation: OrganisationRepository
    let performance: PerformanceRepository
    let edits: OrganisationService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.organisation = services.organisation
        self.performance = services.performance
        self.edits = services.organisationService
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.organisation.route, use: index)
        router.get(SiteURL.branch(SiteURL.code).route, use: branch)
        router.post(SiteURL.branches.route, use: addBranch)
        router.post(SiteURL.branch(SiteURL.code).route, use: editBranch)
        router.post(SiteURL.branchMembers(SiteURL.code).route, use: addMember)
        router.get(SiteURL.member(SiteURL.staff).route, use: member)
        router.post(SiteURL.member(SiteURL.staff).route, use: editMember)
        router.post(SiteURL.units.route, use: addUnit)
        router.get(SiteURL.unit(SiteURL.code).route, use: unit)
        router.post(SiteURL.unit(SiteURL.code).route, use: editUnit)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await indexPage(request, context: context)
    }

    private func indexPage(
        _ request: Request,
        context: AppRequestContext,
        add: OrganisationPage.NewBranch = .init(),
        addProblems: [String] = [],
        addUnit: OrganisationPage.NewUnit = .init(),
        unitProblems: [String] = [],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let query = request.uri.queryParameters
        var notice: String?
        // Counts are read as numbers and the kind from its closed set: an address cannot put
        // words into the notice.
        let number = { (name: Substring) in query[name].flatMap { Int($0) } }
        switch query["imported"].flatMap({ OrganisationUpload.Kind(rawValue: String($0)) }) {
        case .performance?:
            if let year = number("year"), let version = number("version"), let units = number("units") {
                notice = context.language.text("org_imported_performance", ["year": year, "version": version, "n": units])
            }
        case let kind?:
            if let created = number("created"), let updated = number("updated") {
                let key =
                    switch kind {
                    case .members: "org_imported_members"
                    case .units: "org_imported_units"
                    default: "org_imported_branches"
                    }
                notice = context.language.text(key, ["created": created, "updated": updated])
            }
        case nil: break
        }
        if query["saved"] != nil { notice = context.language.text("org_saved") }
        let page = OrganisationPage(
            try await organisation.branches(),
            units: try await performance.units(),
            notice: notice,
            add: add,
            addProblems: addProblems,
            addUnit: addUnit,
            unitProblems: unitProblems
        )
        return try views.page("org", page, status: status, context: context)
    }

    @Sendable func branch(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await branchPage(request, context: context)
    }

    private func branchPage(
        _ request: Request,
        context: AppRequestContext,
        edit: BranchPage.Edit? = nil,
        editProblems: [String] = [],
        add: BranchPage.NewMember = .init(),
        addProblems: [String] = [],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let code = context.parameters.get("code"),
            let branch = try await organisation.branch(code: code)
        else { throw AppError.notFound }
        let page = BranchPage(
            branch,
            members: try await organisation.members(branchCode: code),
            notice: request.uri.queryParameters["saved"] != nil ? context.language.text("org_saved") : nil,
            edit: edit,
            editProblems: editProblems,
            add: add,
            addProblems: addProblems
        )
        return try views.page("org_branch", page, status: status, context: context)
    }

    @Sendable func addBranch(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let entered = Self.fields(form, ["code", "name", "parent", "secretary"])
        let problems: [ImportProblem]
        switch try await edits.addBranch(entered, actor: context.auditActor, logger: context.logger) {
        case .saved(let row): return .seeOther(.branch(row.code), ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        return try await indexPage(
            request,
            context: context,
            add: .init(
                code: entered["code"] ?? "",
                name: entered["name"] ?? "",
                parent: entered["parent"] ?? "",
                secretary: entered["secretary"] ?? ""
            ),
            addProblems: Self.messages(problems, context),
            status: .unprocessableContent
        )
    }

    @Sendable func editBranch(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        var request = request
        let form = try await request.formData(context: context)
        var entered = Self.fields(form, ["name", "parent", "secretary"])
        entered["code"] = code
        let active = form["active"] != nil
        let problems: [ImportProblem]
        switch try await edits.updateBranch(entered, active: active, actor: context.auditActor, logger: context.logger) {
        case .saved: return .seeOther(.branch(code), ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        return try await branchPage(
            request,
            context: context,
            edit: .init(name: entered["name"] ?? "", parent: entered["parent"] ?? "", secretary: entered["secretary"] ?? "", active: active),
            editProblems: Self.messages(problems, context),
            status: .unprocessableContent
        )
    }

    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        var request = request
        let form = try await request.formData(context: context)
        var entered = Self.fields(form, ["staff", "name", "phone"])
        entered["branch"] = code
        let problems: [ImportProblem]
        switch try await edits.addMember(entered, actor: context.auditActor, logger: context.logger) {
        case .saved: return .seeOther(.branch(code), ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        return try await branchPage(
            request,
            context: context,
            add: .init(staff: entered["staff"] ?? "", name: entered["name"] ?? "", phone: entered["phone"] ?? ""),
            addProblems: Self.messages(problems, context),
            status: .unprocessableContent
        )
    }

    @Sendable func member(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let staff = context.parameters.get("staff"), let member = try await organisation.member(staffNumber: staff) else {
            throw AppError.notFound
        }
        return try views.page("org_member", MemberPage(member), context: context)
    }

    @Sendable func editMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let staff = context.parameters.get("staff"), let member = try await organisation.member(staffNumber: staff) else {
            throw AppError.notFound
        }
        var request = request
        let form = try await request.formData(context: context)
        var entered = Self.fields(form, ["name", "branch", "phone"])
        entered["staff"] = staff
        let active = form["active"] != nil
        let problems: [ImportProblem]
        switch try await edits.updateMember(entered, active: active, actor: context.auditActor, logger: context.logger) {
        case .saved(let row): return .seeOther(.branch(row.branchCode), ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        let page = MemberPage(
            member,
            edit: .init(name: entered["name"] ?? "", branch: entered["branch"] ?? "", phone: entered["phone"] ?? "", active: active),
            problems: Self.messages(problems, context)
        )
        return try views.page("org_member", page, status: .unprocessableContent, context: context)
    }

    @Sendable func addUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let entered = Self.fields(form, ["code", "name", "branch", "headcount"])
        let problems: [ImportProblem]
        switch try await edits.addUnit(entered, actor: context.auditActor, logger: context.logger) {
        case .saved: return .seeOther(.organisation, ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        return try await indexPage(
            request,
            context: context,
            addUnit: .init(
                code: entered["code"] ?? "",
                name: entered["name"] ?? "",
                branch: entered["branch"] ?? "",
                headcount: entered["headcount"] ?? ""
            ),
            unitProblems: Self.messages(problems, context),
            status: .unprocessableContent
        )
    }

    @Sendable func unit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code"), let unit = try await performance.unit(code: code) else { throw AppError.notFound }
        return try views.page("org_unit", UnitPage(unit), context: context)
    }

    @Sendable func editUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code"), let unit = try await performance.unit(code: code) else { throw AppError.notFound }
        var request = request
        let form = try await request.formData(context: context)
        var entered = Self.fields(form, ["name", "branch", "headcount"])
        entered["code"] = code
        let active = form["active"] != nil
        let problems: [ImportProblem]
        switch try await edits.updateUnit(entered, active: active, actor: context.auditActor, logger: context.logger) {
        case .saved: return .seeOther(.organisation, ["saved": "1"])
        case .refused(let refused): problems = refused
        case .notFound: throw AppError.notFound
        }
        let page = UnitPage(
            unit,
            edit: .init(name: entered["name"] ?? "", branch: entered["branch"] ?? "", headcount: entered["headcount"] ?? "", active: active),
            problems: Self.messages(problems, context)
        )
        return try views.page("org_unit", page, status: .unprocessableContent, context: context)
    }

    /// The trimmed, non-empty values of the named fields.
    private static func fields(_ form: FormData, _ names: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for name in names {
            if let value = form[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty { values[name] = value }
        }
        return values
    }

    private static func messages(_ problems: [ImportProblem], _ context: AppRequestContext) -> [String] {
        problems.map { $0.detail(context.language) }
    }

}
