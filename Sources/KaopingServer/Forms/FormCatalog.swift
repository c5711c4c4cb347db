import KaopingForms

/// The forms loaded from the forms directory at start-up.
public struct FormCatalog: Sendable {
    public let forms: [FormDefinition]

    public init(forms: [FormDefinition]) {
        self.forms = forms.sorted { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }
    }

    /// Loads and checks every form file; a broken file stops start-up with its file and line.
    public init(directory: String) throws(FormLoadError) {
        self.init(forms: try FormLoader.load(directory: directory))
    }

    public func form(_ id: String) -> FormDefinition? {
        forms.first { $0.id == id }
    }
}
