import Foundation
import KaopingAggregation
import KaopingForms

/// The words a person reads for an item of a round's forms: its label in the round's frozen
/// form, in `language` where the form has it (Chinese otherwise). The code stays where a
/// machine reads it, in a column of its own; a code no frozen form knows is shown as it is.
struct ItemLabels: Sendable {
    let forms: [String: FormDefinition]
    let language: Language

    init(forms: [String: FormDefinition], language: Language) {
        self.forms = forms
        self.language = language
    }

    /// An item of the group's form (the organisation's score sheet unless told).
    func item(_ key: String, group: RoundConfiguration.RaterGroup = .organisation) -> String {
        forms[group.rawValue]?.item(key)?.label.text(language) ?? key
    }

    /// The labels of the score sheet's items, in the order given, joined for one cell.
    func sheetItems(_ keys: [String], separator: String? = nil) -> String {
        keys.map { item($0) }.joined(separator: separator ?? language.text("list_separator"))
    }
}
