import Foundation
import Hummingbird
import KaopingAggregation
import Logging

/// Importing whole lists (branches, members, units) and a year's performance results from an
/// Excel workbook or a CSV file: upload, a preview with every bad row named, then confirm. The
/// rules are `ImportService`'s, which `kaoping import` uses too; blank templates of each list
/// are offered as a workbook and as CSV.
public struct ImportsController: Sendable {
    let organisation: OrganisationRepository
    let imports: ImportService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.organisation = services.organisation
        self.imports = services.imports
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.organisationImport.route, use: upload)
        router.get(SiteURL.importTemplate(file: SiteURL.file).route, use: template)
        router.get(SiteURL.organisationImportPreview(SiteURL.id).route, use: preview)
        router.post(SiteURL.organisationImportApply(SiteURL.id).route, use: apply)
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
        let year = form.text("year").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap {
            EvaluationYear.plausible.contains($0) ? $0 : nil
        }
        guard kind != .performance || year != nil else {
            return try views.page(
                "org_upload_problem",
                UploadProblemPage(message: context.language.text("org_year_needed")),
                status: .unprocessableContent,
                context: context
            )
        }
        let id = try await imports.upload(
            OrganisationUpload(kind: kind, fileName: form.fileName("file") ?? "", content: content, year: kind == .performance ? year : nil),
            actor: context.auditActor,
            logger: context.logger
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
                        b: row.score.map(FigureText.number) ?? "",
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

    private func upload(_ context: AppRequestContext) async throws -> (UUID, OrganisationUpload) {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let upload = try await organisation.upload(id: id) else {
            throw AppError.notFound
        }
        return (id, upload)
    }
}
