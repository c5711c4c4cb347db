/// A one-line description of a form, for `kaoping forms check` and logs.
public struct FormSummary: Sendable {
    public let line: String

    public init(_ form: FormDefinition) {
        let items = form.items
        var parts = ["\(form.id) v\(form.version)", form.kind.rawValue, form.title.zh]
        parts.append("\(form.sections.count) sections")
        switch form.kind {
        case .survey:
            parts.append("\(items.filter(\.isScored).count) scored items, \(items.filter { $0.type.isText }.count) text items")
            if !form.dimensions.isEmpty { parts.append("dimensions: " + form.dimensions.map(\.key).joined(separator: ", ")) }
            if !items.allSatisfy({ $0.label.en != nil }) { parts.append("English incomplete") }
        case .sheet:
            let deductions = items.filter { $0.type == .deduction }
            let total = deductions.compactMap(\.maximum).reduce(0, +)
            parts.append("\(deductions.count) deduction items (\(FormReader.format(total)) points)")
            parts.append("\(items.filter { $0.type == .baseline }.count) baseline, \(items.filter { $0.type == .bonus }.count) bonus")
        }
        line = parts.joined(separator: " · ")
    }
}
