import Foundation
import KaopingForms

/// The forms the server loaded, each with a link to preview and try it.
struct FormsIndexPage: PageModel {
    struct Row {
        let title: String
        let kind: String
        let version: Int
        let items: String
        let preview: String
    }

    let forms: [Row]

    init(_ forms: [FormDefinition], language: Language) {
        self.forms = forms.map { form in
            Row(
                title: form.title.text(language),
                kind: language.text("forms_kind_\(form.kind.rawValue)"),
                version: form.version,
                items: FormSummary(form).line.split(separator: "·").dropFirst(3).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "",
                preview: SiteURL.form(form.id).path
            )
        }
    }
}
