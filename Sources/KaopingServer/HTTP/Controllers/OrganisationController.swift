import Foundation
import Hummingbird
import Logging

/// Branches and members: the lists, importing them from Excel-saved CSV files
/// (upload → preview with every bad row → confirm), and adding, editing and deactivating
/// one at a time.
public struct OrganisationController: Sendable {
    let organisation: OrganisationRepository
    let performance: PerformanceRepository
    let imports: ImportService
    let audit: AuditLog
    let views: Views

    public init(organisation: OrganisationRepository, performance: PerformanceRepository, imports: ImportService, audit: AuditLog, views: Views) {
        self.organisation = organisation
        self.performance = performance
        self.imports = imports
        self.audit = audit
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.organisation.route, use: index)
        router.post(SiteURL.organisationImport.route, use: upload)
        router.get(SiteURL.importTemplate(file: SiteURL.file).route, use: template)
        router.get(SiteURL.organisationImportPreview(SiteURL.id).route, use: preview)
        router.post(SiteURL.organisationImportApply(SiteURL.id).route, use: apply)
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
        if let kind = query["imported"], let created = query["created"], let updated = query["updated"] {
            let key =
                switch kind {
                case "members": "org_imported_members"
                case "units": "org_imported_units"
                default: "org_imported_branches"
                }
            notice = context.language.text(key, ["created": String(created), "updated": String(updated)])
        }
        if query["imported"] == "performance", let year = query["year"], let version = query["version"], let units = query["units"] {
            notice = context.language.text("org_imported_performance", ["year": String(year), "version": String(version), "n": String(units)])
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

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await MultipartForm.read(&request, limit: context.maxUploadSize)
        guard let kind = form.text("kind").flatMap(OrganisationUpload.Kind.init(rawValue:)),
            let content = form.bytes("file"), !content.isEmpty
        else {
            return try views.page(
                "org_upload_problem",
                UploadProblemPage(message: context.language.text("org_upload_missing")),
                status: .unprocessableContent,
                context: context
            )
        }
        let year = form.text("year").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { (2000...2100).contains($0) ? $0 : nil }
        guard kind != .performance || year != nil else {
            return try views.page(
                "org_upload_problem",
                UploadProblemPage(message: context.language.text("org_year_needed")),
                status: .unprocessableContent,
                context: context
            )
        }
        let id = try await organisation.saveUpload(
            OrganisationUpload(kind: kind, fileName: form.fileName("file") ?? "", content: content, year: kind == .performance ? year : nil),
            by: context.user?.id
        )
        return .seeOther(.organisationImportPreview(id.lowercased))
    }

    /// A blank list with its headers and an example row, as a workbook or CSV.
    @Sendable func template(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = context.parameters.get("file") ?? ""
        let parts = file.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = OrganisationUpload.Kind(rawValue: parts[0]), ["csv", "xlsx"].contains(parts[1]) else {
            throw AppError.notFound
        }
        let template = ImportTemplate.of(kind)
        let name = template.fileName(extension: parts[1])
        let disposition = Response.attachment(name.display, fallback: name.fallback)
        if parts[1] == "csv" {
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: disposition],
                body: .init(byteBuffer: ByteBuffer(string: template.csv))
            )
        }
        let bytes = try template.workbook()
        return Response(
            status: .ok,
            headers: [.contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", .contentDisposition: disposition],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    @Sendable func preview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, upload) = try await self.upload(context)
        let language = context.language
        let page: ImportPreviewPage
        switch try await imports.preview(upload.kind, content: upload.content) {
        case .branches(let preview):
            page = ImportPreviewPage(
                upload,
                id: id,
                preview: preview,
                columns: ["code", "name", "parent", "secretary"].map { language.text("org_col_\($0)") },
                sample: preview.rows.prefix(20).map { .init(a: $0.code, b: $0.name, c: $0.parent ?? "", d: $0.secretary ?? "") },
                language: language
            )
        case .members(let preview):
            page = ImportPreviewPage(
                upload,
                id: id,
                preview: preview,
                columns: ["staff", "person", "code", "phone"].map { language.text("org_col_\($0)") },
                sample: preview.rows.prefix(20).map { .init(a: $0.staffNumber, b: $0.name, c: $0.branchCode, d: $0.phone ?? "") },
                language: language
            )
        case .units(let preview):
            page = ImportPreviewPage(
                upload,
                id: id,
                preview: preview,
                columns: ["unit", "name", "code", "headcount"].map { language.text("org_col_\($0)") },
                sample: preview.rows.prefix(20).map { .init(a: $0.code, b: $0.name, c: $0.branchCode, d: $0.headcount.map(String.init) ?? "") },
                language: language
            )
        case .performance(let preview):
            page = ImportPreviewPage(
                upload,
                id: id,
                preview: preview,
                columns: ["unit", "score", "grade", "indicators"].map { language.text("org_col_\($0)") },
                sample: preview.rows.prefix(20).map { row in
                    .init(
                        a: row.unitCode,
                        b: row.score.map(Shown.number) ?? "",
                        c: row.grade ?? "",
                        d: row.indicators.sorted { $0.key < $1.key }.map { "\($0.key)：\($0.value)" }.joined(separator: "；")
                    )
                },
                language: language
            )
        }
        let status: HTTPResponse.Status = page.canImport || page.applied ? .ok : .unprocessableContent
        return try views.page("org_import", page, status: status, context: context)
    }

    @Sendable func apply(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, upload) = try await self.upload(context)
        let outcome: ImportService.Outcome?
        do {
            outcome = try await imports.applyUpload(id: id, actor: context.auditActor, logger: context.logger)
        } catch is ImportRefused {
            throw AppError(status: .unprocessableContent)
        }
        switch outcome {
        case nil:
            // Applied already (a second click, or a retry): its preview says so.
            return .seeOther(.organisationImportPreview(id.lowercased))
        case .performance(let load):
            return .seeOther(
                .organisation,
                ["imported": "performance", "year": String(load.year), "version": String(load.version), "units": String(load.units)]
            )
        case .list(let summary):
            return .seeOther(
                .organisation,
                ["imported": upload.kind.rawValue, "created": String(summary.created), "updated": String(summary.updated)]
            )
        }
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.branchRow(line: 0, entered, problems: &problems) {
            if try await organisation.addBranch(row) {
                try await record("org.branch.added", subject: row.code, context: context)
                return .seeOther(.branch(row.code), ["saved": "1"])
            }
            problems.append(ImportProblem(line: 0, kind: .alreadyExists(row.code)))
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.branchRow(line: 0, entered, problems: &problems) {
            guard try await organisation.updateBranch(row, active: active) else { throw AppError.notFound }
            try await record(active ? "org.branch.updated" : "org.branch.deactivated", subject: code, context: context)
            return .seeOther(.branch(code), ["saved": "1"])
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.memberRow(line: 0, entered, knownBranches: try await organisation.branchCodes(), problems: &problems) {
            if try await organisation.addMember(row) {
                try await record("org.member.added", subject: row.staffNumber, context: context)
                return .seeOther(.branch(code), ["saved": "1"])
            }
            problems.append(ImportProblem(line: 0, kind: .alreadyExists(row.staffNumber)))
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.memberRow(line: 0, entered, knownBranches: try await organisation.branchCodes(), problems: &problems) {
            guard try await organisation.updateMember(row, active: active) else { throw AppError.notFound }
            try await record(active ? "org.member.updated" : "org.member.deactivated", subject: staff, context: context)
            return .seeOther(.branch(row.branchCode), ["saved": "1"])
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.unitRow(line: 0, entered, knownBranches: try await organisation.branchCodes(), problems: &problems) {
            if try await performance.addUnit(row) {
                try await record("org.unit.added", subject: row.code, context: context)
                return .seeOther(.organisation, ["saved": "1"])
            }
            problems.append(ImportProblem(line: 0, kind: .alreadyExists(row.code)))
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
        var problems: [ImportProblem] = []
        if let row = OrganisationCSV.unitRow(line: 0, entered, knownBranches: try await organisation.branchCodes(), problems: &problems) {
            guard try await performance.updateUnit(row, active: active) else { throw AppError.notFound }
            try await record(active ? "org.unit.updated" : "org.unit.deactivated", subject: code, context: context)
            return .seeOther(.organisation, ["saved": "1"])
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

    private func record(_ action: String, subject: String, context: AppRequestContext) async throws {
        try await audit.record(.init(action: action, actorUserID: context.user?.id, actorName: context.user?.username ?? "", subject: subject))
    }

    private func upload(_ context: AppRequestContext) async throws -> (UUID, OrganisationUpload) {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let upload = try await organisation.upload(id: id) else {
            throw AppError.notFound
        }
        return (id, upload)
    }
}
