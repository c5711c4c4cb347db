import Foundation
import Hummingbird
import Logging

/// Branches and members: the lists, and importing them from Excel-saved CSV files
/// (upload → preview with every bad row → confirm).
public struct OrganisationController: Sendable {
    let organisation: any OrganisationRepository
    let audit: any AuditLog
    let views: Views

    public init(organisation: any OrganisationRepository, audit: any AuditLog, views: Views) {
        self.organisation = organisation
        self.audit = audit
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/org", use: index)
        router.post("/org/import", use: upload)
        router.get("/org/imports/{id}", use: preview)
        router.post("/org/imports/{id}/apply", use: apply)
        router.get("/org/branches/{code}", use: branch)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        let branches = try await organisation.branches()
        var values: [String: Any] = [
            "branches": branches.map { branch -> [String: Any] in
                [
                    "code": branch.code, "name": branch.name, "organisation": branch.organisation ?? "",
                    "secretary": branch.secretary ?? "", "members": branch.members, "inactive": !branch.active,
                ]
            },
            "hasBranches": !branches.isEmpty,
            "branchCount": branches.count,
            "memberCount": branches.reduce(0) { $0 + $1.members },
        ]
        if let kind = request.uri.queryParameters["imported"], let created = request.uri.queryParameters["created"],
           let updated = request.uri.queryParameters["updated"]
        {
            values["notice"] = context.language.text("org_imported_\(kind == "members" ? "members" : "branches")")
                .replacingOccurrences(of: "{created}", with: String(created))
                .replacingOccurrences(of: "{updated}", with: String(updated))
        }
        return try views.page("org", values, context: context)
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await MultipartForm.read(&request, limit: context.maxUploadSize)
        guard let kind = form.text("kind").flatMap(OrganisationUpload.Kind.init(rawValue:)),
              let content = form.bytes("file"), !content.isEmpty
        else {
            return try views.page("org_upload_problem", ["message": context.language.text("org_upload_missing")], status: .unprocessableContent, context: context)
        }
        let id = try await organisation.saveUpload(
            OrganisationUpload(kind: kind, fileName: form.fileName("file") ?? "", content: content), by: context.user?.id
        )
        return .seeOther("/admin/org/imports/\(id)")
    }

    @Sendable func preview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, upload) = try await self.upload(context)
        let english = context.language == .english
        var values: [String: Any] = [
            "id": id.uuidString.lowercased(), "fileName": upload.fileName,
            "kindLabel": context.language.text("org_kind_\(upload.kind.rawValue)"),
            "applied": upload.appliedAt != nil,
        ]
        switch upload.kind {
        case .branches:
            let preview = OrganisationCSV.branches(upload.content)
            values.merge(summary(preview, english: english), uniquingKeysWith: { $1 })
            values["sample"] = preview.rows.prefix(20).map { ["a": $0.code, "b": $0.name, "c": $0.parent ?? "", "d": $0.secretary ?? ""] }
            values["columns"] = ["code", "name", "parent", "secretary"].map { context.language.text("org_col_\($0)") }
        case .members:
            let preview = OrganisationCSV.members(upload.content, knownBranches: try await organisation.branchCodes())
            values.merge(summary(preview, english: english), uniquingKeysWith: { $1 })
            values["sample"] = preview.rows.prefix(20).map { ["a": $0.staffNumber, "b": $0.name, "c": $0.branchCode, "d": $0.phone ?? ""] }
            values["columns"] = ["staff", "person", "code", "phone"].map { context.language.text("org_col_\($0)") }
        }
        let status: HTTPResponse.Status = (values["canImport"] as? Bool) == true || upload.appliedAt != nil ? .ok : .unprocessableContent
        return try views.page("org_import", values, status: status, context: context)
    }

    @Sendable func apply(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (id, upload) = try await self.upload(context)
        guard try await organisation.claimUpload(id: id) else {
            return .seeOther("/admin/org/imports/\(id.uuidString.lowercased())")
        }
        do {
            let summary: ImportSummary
            switch upload.kind {
            case .branches:
                let preview = OrganisationCSV.branches(upload.content)
                guard preview.canImport else { throw AppError(status: .unprocessableContent) }
                summary = try await organisation.importBranches(preview.rows, logger: context.logger)
            case .members:
                let preview = OrganisationCSV.members(upload.content, knownBranches: try await organisation.branchCodes())
                guard preview.canImport else { throw AppError(status: .unprocessableContent) }
                summary = try await organisation.importMembers(preview.rows, logger: context.logger)
            }
            try await audit.record(
                .init(
                    action: "org.import.\(upload.kind.rawValue)", actorUserID: context.user?.id, actorName: context.user?.username ?? "",
                    subject: upload.fileName, details: ["created": "\(summary.created)", "updated": "\(summary.updated)"]
                )
            )
            return .seeOther("/admin/org?imported=\(upload.kind.rawValue)&created=\(summary.created)&updated=\(summary.updated)")
        } catch {
            try? await organisation.releaseUpload(id: id)
            throw error
        }
    }

    @Sendable func branch(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code"),
              let branch = try await organisation.branches().first(where: { $0.code == code })
        else { throw AppError.notFound }
        let members = try await organisation.members(branchCode: code)
        return try views.page(
            "org_branch",
            [
                "code": branch.code, "name": branch.name, "organisation": branch.organisation ?? "", "secretary": branch.secretary ?? "",
                "members": members.map { ["staff": $0.staffNumber, "name": $0.name, "phone": $0.phone ?? "", "inactive": !$0.active] as [String: Any] },
                "hasMembers": !members.isEmpty, "memberCount": members.count,
            ],
            context: context
        )
    }

    private func upload(_ context: AppRequestContext) async throws -> (UUID, OrganisationUpload) {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let upload = try await organisation.upload(id: id) else {
            throw AppError.notFound
        }
        return (id, upload)
    }

    private func summary<Row>(_ preview: ImportPreview<Row>, english: Bool) -> [String: Any] {
        [
            "rowCount": preview.rows.count,
            "problemCount": preview.problems.count,
            "problems": preview.problems.map { ["message": $0.message(english: english)] },
            "hasProblems": !preview.problems.isEmpty,
            "canImport": preview.canImport,
            "encoding": preview.encoding?.rawValue ?? "?",
        ]
    }
}
