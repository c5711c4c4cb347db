import Foundation
import Hummingbird
import KaopingForms

/// Administrators see every form as respondents will, and can try it: nothing is stored.
public struct FormsController: Sendable {
    let catalog: FormCatalog
    let views: Views
    let limits: SubmissionLimits

    public init(catalog: FormCatalog, views: Views, limits: SubmissionLimits) {
        self.catalog = catalog
        self.views = views
        self.limits = limits
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.forms.route, use: index)
        router.get(SiteURL.form(SiteURL.formID).route, use: preview)
        router.post(SiteURL.form(SiteURL.formID).route, use: tryPreview)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("forms_index", FormsIndexPage(catalog.forms, language: context.language), context: context)
    }

    @Sendable func preview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try self.form(context)
        return try render(form, submitted: nil, valid: false, status: .ok, context: context)
    }

    @Sendable func tryPreview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try self.form(context)
        var request = request
        let data = try await request.formData(context: context)
        let parsed: ParsedSubmission
        do {
            parsed = try form.parseSubmission(data.answerFields, limits: limits)
        } catch {
            throw AppError.malformedBody
        }
        return try render(form, submitted: parsed, valid: parsed.isValid, status: parsed.isValid ? .ok : .unprocessableContent, context: context)
    }

    private func form(_ context: AppRequestContext) throws -> FormDefinition {
        guard let id = context.parameters.get("formId"), let form = catalog.form(id) else { throw AppError.notFound }
        return form
    }

    private func render(
        _ form: FormDefinition,
        submitted: ParsedSubmission?,
        valid: Bool,
        status: HTTPResponse.Status,
        context: AppRequestContext
    ) throws -> Response {
        var page = FormView(form: form, language: context.language, limits: limits).page(submitted: submitted)
        page.preview = true
        page.previewValid = valid
        page.action = SiteURL.form(form.id).path
        page.anonymous = form.kind == .survey
        return try views.page("form", page, status: status, context: context)
    }
}
