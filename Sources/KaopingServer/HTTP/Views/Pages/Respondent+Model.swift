import Foundation

extension FormPage {
    /// A respondent's form: anonymous, without the admin navigation, with the script that keeps
    /// a draft in the browser. With `slots`, the per-request values are markers that
    /// `PrerenderedPage` fills in, so that one rendering serves everyone.
    mutating func respondent(slots: Bool) {
        anonymous = true
        respondent = true
        script = "form-draft.js"
        guard slots else { return }
        csrf = PrerenderedPage.Slot.csrf.marker
        submissionKey = PrerenderedPage.Slot.submissionKey.marker
        action = PrerenderedPage.Slot.action.marker
        branchName = PrerenderedPage.Slot.branchName.marker
        roundTitle = PrerenderedPage.Slot.roundTitle.marker
        draftKey = PrerenderedPage.Slot.draftKey.marker
        deadline = PrerenderedPage.Slot.deadline.marker
    }
}

/// After an answer is stored: the form's thanks. Rendered once per form and language; the
/// CSRF token and the draft to clear are filled in per request.
struct ThanksPage: PageModel {
    let message: String
    let csrf = PrerenderedPage.Slot.csrf.marker
    let draftKey = PrerenderedPage.Slot.draftKey.marker
    let respondent = true
    let script = "form-draft.js"
}

/// Why a respondent cannot answer (not open, closed, used, full), and for a shared device the
/// way to answer once more.
struct ClosedPage: PageModel {
    /// What the page says at the top: that the round is closed, that the answer arrived, …
    let heading: String
    let message: String
    var again: String?
    let respondent = true
}

/// Where a member types the short code printed on their slip.
struct CodeEntryPage: PageModel {
    var code = ""
    var problem: String?
    let action = SiteURL.codeEntry.path
    let respondent = true
}
