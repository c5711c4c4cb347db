import Foundation
import KaopingAggregation
import KaopingForms
import Yams

/// The interface text of every language, one file per language in `Resources/locales/`
/// (`zh-Hans.yaml`, `en.yaml`): flat `key: text` maps whose `{name}` placeholders the server
/// fills in.
///
/// Both files must have the same keys with the same placeholders; `check` (run by
/// `buildApplication`, as the form files are checked) stops start-up naming the file, the line
/// and the key otherwise, and the tests hold the files to it.
public struct TextCatalogue: Sendable {
    public let texts: [Language: [String: String]]

    /// The catalogue bundled with the server, read on first use.
    static let bundled: Result<TextCatalogue, TextCatalogueError> = Result {
        try TextCatalogue(directory: Resources.path("locales"))
    }.mapError { $0 as? TextCatalogueError ?? TextCatalogueError(file: "locales", line: nil, reason: "\($0)") }

    /// Stops start-up if the bundled catalogue is broken.
    public static func check() throws {
        _ = try bundled.get()
    }

    /// Reads and checks `<directory>/<language code>.yaml` for every language.
    public init(directory: String) throws(TextCatalogueError) {
        var texts: [Language: [String: String]] = [:]
        var lines: [Language: [String: Int]] = [:]
        for language in Language.allCases {
            let file = "\(directory)/\(language.rawValue).yaml"
            (texts[language], lines[language]) = try Self.read(file)
        }
        let reference = Language.chinese
        for language in Language.allCases where language != reference {
            let file = "\(directory)/\(language.rawValue).yaml"
            let referenceFile = "\(directory)/\(reference.rawValue).yaml"
            let own = texts[language] ?? [:]
            let theirs = texts[reference] ?? [:]
            if let missing = theirs.keys.filter({ own[$0] == nil }).min(by: { lines[reference]![$0]! < lines[reference]![$1]! }) {
                throw TextCatalogueError(file: referenceFile, line: lines[reference]?[missing], reason: "'\(missing)' is missing from \(file)")
            }
            if let extra = own.keys.filter({ theirs[$0] == nil }).min(by: { lines[language]![$0]! < lines[language]![$1]! }) {
                throw TextCatalogueError(file: file, line: lines[language]?[extra], reason: "'\(extra)' is missing from \(referenceFile)")
            }
            for key in own.keys.sorted(by: { lines[language]![$0]! < lines[language]![$1]! }) {
                let ownPlaceholders = Self.placeholders(in: own[key]!)
                let referencePlaceholders = Self.placeholders(in: theirs[key]!)
                if ownPlaceholders != referencePlaceholders {
                    throw TextCatalogueError(
                        file: file,
                        line: lines[language]?[key],
                        reason:
                            "'\(key)' has the placeholders \(Self.describe(ownPlaceholders)) but \(referenceFile) has \(Self.describe(referencePlaceholders))"
                    )
                }
            }
        }
        self.texts = texts
    }

    /// The `{name}` placeholders of a text, each once.
    static func placeholders(in text: String) -> Set<String> {
        var found: Set<String> = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            if !name.isEmpty && name.allSatisfy({ $0.isLetter || $0 == "_" }) { found.insert(String(name)) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    private static func describe(_ placeholders: Set<String>) -> String {
        placeholders.isEmpty ? "none" : placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")
    }

    private static func read(_ file: String) throws(TextCatalogueError) -> ([String: String], [String: Int]) {
        guard let data = FileManager.default.contents(atPath: file), let yaml = String(data: data, encoding: .utf8) else {
            throw TextCatalogueError(file: file, line: nil, reason: "cannot be read as UTF-8 text")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw TextCatalogueError(file: file, line: Self.line(of: error), reason: "is not valid YAML: \(error)")
        } catch {
            throw TextCatalogueError(file: file, line: nil, reason: "is not valid YAML: \(error)")
        }
        guard case .mapping(let mapping) = root else {
            throw TextCatalogueError(file: file, line: nil, reason: "must be a map of keys to texts")
        }
        var texts: [String: String] = [:]
        var lines: [String: Int] = [:]
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line
            guard let key = keyNode.string, !key.isEmpty else {
                throw TextCatalogueError(file: file, line: line, reason: "a key must be text")
            }
            guard lines[key] == nil else {
                throw TextCatalogueError(file: file, line: line, reason: "'\(key)' is given twice (first on line \(lines[key]!))")
            }
            guard case .scalar(let scalar) = valueNode, !scalar.string.isEmpty else {
                throw TextCatalogueError(file: file, line: line, reason: "'\(key)' must have a text")
            }
            texts[key] = scalar.string
            lines[key] = line ?? 0
        }
        return (texts, lines)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }
}

/// A broken catalogue file: where, and what is wrong.
public struct TextCatalogueError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let reason: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}

extension Language {
    /// The text catalogue for templates (`{{t.key}}`).
    public var strings: [String: String] {
        (try? TextCatalogue.bundled.get())?.texts[self] ?? [:]
    }

    /// The text for `key` in this language; the key itself if there is none (the tests make
    /// sure that every key the code and the templates use exists).
    public func text(_ key: String) -> String {
        strings[key] ?? key
    }

    /// Each of `items` in quotation marks, in a list: “b01”、“b02” or 'b01', 'b02'.
    public func quotedList(_ items: [String]) -> String {
        items.map { text("quoted", ["text": $0]) }.joined(separator: text("list_comma"))
    }

    /// The text for `key` with its `{name}` placeholders filled in from `values`.
    public func text(_ key: String, _ values: KeyValuePairs<String, any CustomStringConvertible>) -> String {
        var text = self.text(key)
        for (name, value) in values {
            text = text.replacingOccurrences(of: "{\(name)}", with: value.description)
        }
        return text
    }
}

extension LocalizedText {
    /// A form's own text (from its YAML file) in `language`; Chinese where it has no English.
    func text(_ language: Language) -> String {
        text(english: language == .english)
    }
}

extension RoundConfiguration.Problem {
    /// The problem in `language`: its key's text with the values filled in, a rater group by
    /// its name in that language.
    public func text(_ language: Language) -> String {
        var text = language.text(key)
        for (name, value) in values {
            let shown = name == "group" ? language.text("group_\(value)") : value
            text = text.replacingOccurrences(of: "{\(name)}", with: shown)
        }
        return text
    }
}
