import Foundation
import Yams

/// One problem in a form file, with where it is.
public struct FormIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem found in the form files, reported together so that one run fixes them all.
public struct FormLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let issues: [FormIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Reads and checks form files (format: docs/forms.md).
public enum FormLoader {
    /// Loads every `*.yaml` / `*.yml` file of `directory`, sorted by name.
    public static func load(directory: String) throws(FormLoadError) -> [FormDefinition] {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else {
            throw FormLoadError(issues: [FormIssue(file: directory, line: 0, column: 0, message: "cannot read the forms directory")])
        }
        var forms: [FormDefinition] = []
        var issues: [FormIssue] = []
        var seen: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = directory + "/" + name
            guard let data = fileManager.contents(atPath: path) else {
                issues.append(FormIssue(file: path, line: 0, column: 0, message: "cannot read the file"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                issues.append(FormIssue(file: path, line: 1, column: 1, message: "the file is not UTF-8 text"))
                continue
            }
            do {
                let form = try parse(yaml: text, file: path)
                if let other = seen[form.id] {
                    issues.append(FormIssue(file: path, line: 1, column: 1, message: "form id '\(form.id)' is also used by \(other)"))
                } else {
                    seen[form.id] = path
                    forms.append(form)
                }
            } catch {
                issues.append(contentsOf: error.issues)
            }
        }
        if !issues.isEmpty { throw FormLoadError(issues: issues) }
        return forms
    }

    /// Parses one form file's text; `file` names it in messages.
    public static func parse(yaml: String, file: String) throws(FormLoadError) -> FormDefinition {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw FormLoadError(issues: [yamlIssue(error, file: file)])
        } catch {
            throw FormLoadError(issues: [FormIssue(file: file, line: 1, column: 1, message: "not valid YAML: \(error)")])
        }
        guard let root else {
            throw FormLoadError(issues: [FormIssue(file: file, line: 1, column: 1, message: "the file is empty")])
        }
        var reader = FormReader(file: file)
        let form = reader.form(root)
        if let form, reader.issues.isEmpty { return form }
        throw FormLoadError(issues: reader.issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
    }

    static func yamlIssue(_ error: YamlError, file: String) -> FormIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text), " } ?? ""
            return FormIssue(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(detail)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return FormIssue(
                file: file,
                line: context.mark.line,
                column: context.mark.column,
                message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping"
            )
        default:
            return FormIssue(file: file, line: 1, column: 1, message: "not valid YAML: \(error)")
        }
    }
}

/// Walks the YAML tree of one form, building the definition and collecting every problem.
struct FormReader {
    let file: String
    var issues: [FormIssue] = []

    init(file: String) {
        self.file = file
    }

    // MARK: Form

    mutating func form(_ root: Node) -> FormDefinition? {
        guard
            let fields = mapping(
                root,
                allowed: [
                    "id", "version", "kind", "title", "intro", "thanks", "satisfaction", "deduction-total", "dimensions", "scales", "sections",
                ],
                what: "a form"
            )
        else {
            return nil
        }
        let id = key(fields["id"], in: root, field: "id")
        let version = integer(fields["version"], in: root, field: "version", range: 1...100_000)
        var kind = FormKind.survey
        if let node = fields["kind"] {
            if let text = node.string, let parsed = FormKind(rawValue: text) {
                kind = parsed
            } else {
                issue(node, "kind must be survey or sheet")
            }
        }
        let title = localized(fields["title"], in: root, field: "title", required: true)
        let intro = localized(fields["intro"], in: root, field: "intro", required: false)
        let thanks = localized(fields["thanks"], in: root, field: "thanks", required: false)

        let dimensions = list(fields["dimensions"], what: "dimensions").compactMap { dimension($0) }
        checkUnique(dimensions.map(\.key), nodes: list(fields["dimensions"], what: nil), what: "dimension")
        let scales = list(fields["scales"], what: "scales").compactMap { scale($0) }
        checkUnique(scales.map(\.key), nodes: list(fields["scales"], what: nil), what: "scale")
        let scalesByKey = Dictionary(scales.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

        var sections: [FormSection] = []
        var itemLines: [String: Int] = [:]
        var sectionKeys: Set<String> = []
        let sectionNodes = list(fields["sections"], what: "sections")
        if fields["sections"] == nil { issue(root, "missing 'sections': a form needs at least one section with items") }
        for node in sectionNodes {
            guard let section = section(node, kind: kind, scales: scalesByKey, dimensions: dimensions, itemLines: &itemLines) else { continue }
            if !sectionKeys.insert(section.key).inserted { issue(node, "section key '\(section.key)' is used twice") }
            sections.append(section)
        }
        if fields["sections"] != nil && sectionNodes.isEmpty {
            issue(fields["sections"], "a form needs at least one section with items")
        }
        let items = sections.flatMap(\.items)

        var satisfaction: String?
        if let node = fields["satisfaction"] {
            satisfaction = node.string
            if let key = satisfaction {
                if let item = items.first(where: { $0.key == key }) {
                    if !item.type.hasOptions || !item.options.contains(where: \.satisfied) {
                        issue(node, "satisfaction item '\(key)' needs options marked satisfied: true")
                    }
                } else {
                    issue(node, "satisfaction names '\(key)', which is not an item of this form")
                }
            } else {
                issue(node, "satisfaction must be an item key")
            }
        }

        var deductionTotal: Double?
        if let node = fields["deduction-total"] {
            deductionTotal = number(node, field: "deduction-total", range: 1...1000)
            if kind != .sheet { issue(node, "deduction-total applies to score sheets (kind: sheet) only") }
            if let total = deductionTotal {
                let sum = items.filter { $0.type == .deduction }.compactMap(\.maximum).reduce(0, +)
                if abs(sum - total) > 1e-9 {
                    issue(
                        node,
                        "the deduction items' maxima add up to \(Self.format(sum)), but this sheet says they must add up to \(Self.format(total))"
                    )
                }
            }
        }
        if kind == .sheet && !items.contains(where: { $0.type == .deduction }) {
            issue(fields["sections"] ?? root, "a score sheet needs at least one deduction item")
        }

        guard let id, let version, let title else { return nil }
        return FormDefinition(
            id: id,
            version: version,
            kind: kind,
            title: title,
            intro: intro,
            thanks: thanks,
            dimensions: dimensions,
            scales: scales,
            sections: sections,
            satisfactionItem: satisfaction,
            deductionTotal: deductionTotal,
            sourceFile: file
        )
    }

    // MARK: Parts

    mutating func dimension(_ node: Node) -> Dimension? {
        guard let fields = mapping(node, allowed: ["key", "label"], what: "a dimension") else { return nil }
        guard let key = key(fields["key"], in: node, field: "key"),
            let label = localized(fields["label"], in: node, field: "label", required: true)
        else { return nil }
        return Dimension(key: key, label: label)
    }

    mutating func scale(_ node: Node) -> Scale? {
        guard let fields = mapping(node, allowed: ["key", "options"], what: "a scale") else { return nil }
        let key = key(fields["key"], in: node, field: "key")
        let options = self.options(fields["options"], in: node)
        guard let key, let options else { return nil }
        return Scale(key: key, options: options)
    }

    mutating func options(_ node: Node?, in parent: Node) -> [AnswerOption]? {
        guard let node else {
            issue(parent, "missing 'options'")
            return nil
        }
        let nodes = list(node, what: "options")
        if nodes.isEmpty {
            issue(node, "options must list at least one option")
            return nil
        }
        let options = nodes.compactMap { option($0) }
        checkUnique(options.map(\.key), nodes: nodes, what: "option")
        return options.count == nodes.count ? options : nil
    }

    mutating func option(_ node: Node) -> AnswerOption? {
        guard let fields = mapping(node, allowed: ["key", "label", "points", "unscored", "satisfied"], what: "an option") else { return nil }
        let key = key(fields["key"], in: node, field: "key")
        let label = localized(fields["label"], in: node, field: "label", required: true)
        let unscored = boolean(fields["unscored"], field: "unscored") ?? false
        let satisfied = boolean(fields["satisfied"], field: "satisfied") ?? false
        var points: Double?
        if let pointsNode = fields["points"] {
            points = number(pointsNode, field: "points", range: 0...100)
            if unscored { issue(pointsNode, "an unscored option has no points; remove points or unscored") }
        } else if !unscored {
            issue(node, "option '\(key ?? "?")' has no points: give points (0–100) or mark it unscored: true")
        }
        if unscored && satisfied { issue(fields["satisfied"], "an unscored option cannot count as satisfied") }
        guard let key, let label else { return nil }
        return AnswerOption(key: key, label: label, points: points, satisfied: satisfied)
    }

    mutating func section(
        _ node: Node,
        kind: FormKind,
        scales: [String: Scale],
        dimensions: [Dimension],
        itemLines: inout [String: Int]
    ) -> FormSection? {
        guard let fields = mapping(node, allowed: ["key", "title", "intro", "dimension", "items"], what: "a section") else { return nil }
        let key = key(fields["key"], in: node, field: "key")
        let title = localized(fields["title"], in: node, field: "title", required: true)
        let intro = localized(fields["intro"], in: node, field: "intro", required: false)
        let dimension = dimensionReference(fields["dimension"], dimensions: dimensions)
        var items: [FormItem] = []
        let itemNodes = list(fields["items"], what: "items")
        if fields["items"] == nil || itemNodes.isEmpty { issue(fields["items"] ?? node, "a section needs at least one item") }
        for itemNode in itemNodes {
            guard var item = item(itemNode, kind: kind, scales: scales, dimensions: dimensions) else { continue }
            if let line = itemLines[item.key] {
                issue(itemNode, "item key '\(item.key)' is already used at line \(line)")
                continue
            }
            itemLines[item.key] = itemNode.mark?.line ?? 0
            if item.dimension == nil && item.isScored { item.dimension = dimension }
            items.append(item)
        }
        guard let key, let title else { return nil }
        return FormSection(key: key, title: title, intro: intro, dimension: dimension, items: items)
    }

    mutating func item(_ node: Node, kind: FormKind, scales: [String: Scale], dimensions: [Dimension]) -> FormItem? {
        guard
            let fields = mapping(
                node,
                allowed: ["key", "type", "label", "help", "required", "weight", "dimension", "scale", "options", "max-length", "max", "cap"],
                what: "an item"
            )
        else { return nil }
        let key = key(fields["key"], in: node, field: "key")
        let label = localized(fields["label"], in: node, field: "label", required: true)
        let help = localized(fields["help"], in: node, field: "help", required: false)
        var type: ItemType?
        if let typeNode = fields["type"] {
            type = typeNode.string.flatMap(ItemType.init(rawValue:))
            if type == nil {
                issue(typeNode, "unknown item type '\(typeNode.string ?? "")' (one of: \(ItemType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        } else {
            issue(node, "item '\(key ?? "?")' has no type")
        }
        guard let type else { return nil }
        let name = key ?? "?"

        if type.isScoreSheetItem && kind != .sheet {
            issue(fields["type"], "\(type.rawValue) items belong on score sheets (kind: sheet), not on surveys")
        }
        if kind == .sheet && type.hasOptions {
            issue(fields["type"], "\(type.rawValue) items belong on surveys; score sheets use deduction, baseline, bonus and text items")
        }
        for (field, allowedFor) in [
            ("scale", [ItemType.rating]), ("options", [.choice]), ("max-length", [.text, .longText]), ("max", [.deduction]), ("cap", [.bonus]),
        ]
        where fields[field] != nil && !allowedFor.contains(type) {
            issue(fields[field], "'\(field)' does not apply to \(type.rawValue) items")
        }

        let required = boolean(fields["required"], field: "required") ?? (type.hasOptions || type == .deduction || type == .baseline)
        var weight = 1.0
        if let weightNode = fields["weight"] {
            if type.hasOptions {
                if let value = number(weightNode, field: "weight", range: 0...1000) {
                    if value <= 0 { issue(weightNode, "weight must be greater than 0") } else { weight = value }
                }
            } else {
                issue(weightNode, "weight has no meaning on a \(type.rawValue) item, which is not scored")
            }
        }
        let dimension = dimensionReference(fields["dimension"], dimensions: dimensions)

        var options: [AnswerOption] = []
        var scaleKey: String?
        switch type {
        case .rating:
            if let scaleNode = fields["scale"] {
                scaleKey = scaleNode.string
                if let scaleKey, let scale = scales[scaleKey] {
                    options = scale.options
                } else {
                    let defined = scales.keys.sorted().joined(separator: ", ")
                    issue(
                        scaleNode,
                        "unknown scale '\(scaleNode.string ?? "")'" + (defined.isEmpty ? " (the form defines no scales)" : " (defined: \(defined))")
                    )
                    return nil
                }
            } else {
                issue(node, "rating item '\(name)' needs a scale")
                return nil
            }
        case .choice:
            guard let parsed = self.options(fields["options"], in: node) else { return nil }
            options = parsed
        default:
            break
        }
        if type.hasOptions && required && !options.contains(where: { $0.points != nil }) {
            issue(node, "required item '\(name)' has no scored option, so it can never be scored")
        }

        var maxLength: Int?
        if let node = fields["max-length"] { maxLength = integer(node, in: node, field: "max-length", range: 1...20_000) }
        var maximum: Double?
        switch type {
        case .deduction:
            if let node = fields["max"] {
                maximum = number(node, field: "max", range: 0...100)
                if maximum == 0 { issue(node, "max must be greater than 0") }
            } else {
                issue(node, "deduction item '\(name)' needs max (the points it is worth)")
            }
        case .bonus:
            if let node = fields["cap"] {
                maximum = number(node, field: "cap", range: 0...100)
                if maximum == 0 { issue(node, "cap must be greater than 0") }
            } else {
                issue(node, "bonus item '\(name)' needs cap (the most points it can add)")
            }
        default:
            break
        }
        guard let key, let label else { return nil }
        return FormItem(
            key: key,
            type: type,
            label: label,
            help: help,
            required: required,
            weight: weight,
            dimension: dimension,
            scale: scaleKey,
            options: options,
            maxLength: maxLength,
            maximum: maximum
        )
    }

    mutating func dimensionReference(_ node: Node?, dimensions: [Dimension]) -> String? {
        guard let node else { return nil }
        guard let key = node.string, !key.isEmpty else {
            issue(node, "dimension must be a dimension key")
            return nil
        }
        if !dimensions.contains(where: { $0.key == key }) {
            let declared = dimensions.map(\.key).joined(separator: ", ")
            issue(node, "unknown dimension '\(key)'" + (declared.isEmpty ? " (declare it under dimensions)" : " (declared: \(declared))"))
            return nil
        }
        return key
    }

    // MARK: Scalars

    mutating func mapping(_ node: Node, allowed: Set<String>, what: String) -> [String: Node]? {
        guard let mapping = node.mapping else {
            issue(node, "expected \(what) (a mapping of keys to values)")
            return nil
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else {
                issue(keyNode, "keys must be text")
                continue
            }
            if allowed.contains(name) {
                fields[name] = value
            } else {
                issue(keyNode, "unknown key '\(name)' in \(what) (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        return fields
    }

    mutating func list(_ node: Node?, what: String?) -> [Node] {
        guard let node else { return [] }
        guard let sequence = node.sequence else {
            if let what { issue(node, "\(what) must be a list") }
            return []
        }
        return Array(sequence)
    }

    mutating func key(_ node: Node?, in parent: Node, field: String) -> String? {
        guard let node else {
            issue(parent, "missing '\(field)'")
            return nil
        }
        guard let text = node.string, node.scalar != nil, Self.isKey(text) else {
            issue(node, "\(field) must be 1 to 64 letters, digits, '-' or '_'")
            return nil
        }
        return text
    }

    mutating func integer(_ node: Node?, in parent: Node, field: String, range: ClosedRange<Int>) -> Int? {
        guard let node else {
            issue(parent, "missing '\(field)'")
            return nil
        }
        guard let value = node.int, range.contains(value) else {
            issue(node, "\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(node.string ?? "?")'")
            return nil
        }
        return value
    }

    mutating func number(_ node: Node, field: String, range: ClosedRange<Double>) -> Double? {
        guard let value = node.float ?? node.int.map(Double.init), value.isFinite else {
            issue(node, "\(field) must be a number, not '\(node.string ?? "?")'")
            return nil
        }
        guard range.contains(value) else {
            issue(node, "\(field) must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), not \(Self.format(value))")
            return nil
        }
        return value
    }

    mutating func boolean(_ node: Node?, field: String) -> Bool? {
        guard let node else { return nil }
        guard let value = node.bool else {
            issue(node, "\(field) must be true or false, not '\(node.string ?? "?")'")
            return nil
        }
        return value
    }

    /// A plain string is Chinese; a mapping gives `zh-Hans` and, optionally, `en`.
    mutating func localized(_ node: Node?, in parent: Node, field: String, required: Bool) -> LocalizedText? {
        guard let node else {
            if required { issue(parent, "missing '\(field)'") }
            return nil
        }
        if node.scalar != nil, let text = node.string {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                issue(node, "\(field) has no zh-Hans text")
                return nil
            }
            return LocalizedText(zh: text)
        }
        guard let fields = mapping(node, allowed: ["zh-Hans", "en"], what: "\(field) (zh-Hans and en texts)") else { return nil }
        guard let zh = fields["zh-Hans"]?.string, !zh.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            issue(node, "\(field) has no zh-Hans text")
            return nil
        }
        let en = fields["en"]?.string.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        return LocalizedText(zh: zh, en: en)
    }

    mutating func checkUnique(_ keys: [String], nodes: [Node], what: String) {
        var seen: Set<String> = []
        for (index, key) in keys.enumerated() where !seen.insert(key).inserted {
            issue(index < nodes.count ? nodes[index] : nil, "\(what) key '\(key)' is used twice")
        }
    }

    mutating func issue(_ node: Node?, _ message: String) {
        let mark = node?.mark
        issues.append(FormIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    static func isKey(_ text: String) -> Bool {
        (1...64).contains(text.count)
            && text.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
