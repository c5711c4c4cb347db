import Foundation
import NIOConcurrencyHelpers

/// A page rendered once with placeholders, then filled per request by plain concatenation.
///
/// Rendering a long form through Mustache costs milliseconds of dynamic casts; the form is the
/// same for every respondent but for a handful of values (the CSRF token, the submission key,
/// the branch). Those become slots, filled and HTML-escaped per request.
struct PrerenderedPage: Sendable {
    enum Slot: String, CaseIterable, Sendable {
        case csrf, submissionKey, action, branchName, roundTitle, draftKey
        /// What the template is given instead of the value: characters Mustache does not escape
        /// and no real text contains.
        var marker: String { "\u{E000}\(rawValue)\u{E001}" }
    }

    private let literals: [String]
    private let slots: [Slot]

    init(rendered: String) {
        var literals: [String] = []
        var slots: [Slot] = []
        var rest = Substring(rendered)
        while let start = rest.firstIndex(of: "\u{E000}"), let end = rest[start...].firstIndex(of: "\u{E001}"),
            let slot = Slot(rawValue: String(rest[rest.index(after: start)..<end]))
        {
            literals.append(String(rest[..<start]))
            slots.append(slot)
            rest = rest[rest.index(after: end)...]
        }
        literals.append(String(rest))
        self.literals = literals
        self.slots = slots
    }

    func fill(_ values: [Slot: String]) -> String {
        var html = ""
        html.reserveCapacity(literals.reduce(0) { $0 + $1.utf8.count } + 256)
        for (index, literal) in literals.enumerated() {
            html += literal
            if index < slots.count { html += HTMLEscape.escape(values[slots[index]] ?? "") }
        }
        return html
    }
}

/// Prerendered pages by key, made on first use.
final class PrerenderedPageCache: Sendable {
    private let pages = NIOLockedValueBox<[String: PrerenderedPage]>([:])

    func page(_ key: String, render: () throws -> String) rethrows -> PrerenderedPage {
        if let page = pages.withLockedValue({ $0[key] }) { return page }
        let page = PrerenderedPage(rendered: try render())
        pages.withLockedValue { $0[key] = page }
        return page
    }
}

enum HTMLEscape {
    static func escape(_ text: String) -> String {
        guard text.contains(where: { "&<>\"'".contains($0) }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
