import Foundation
import NIOConcurrencyHelpers

/// A page rendered once with placeholders, then filled per request by plain concatenation.
///
/// Rendering a long form through Mustache costs milliseconds of dynamic casts; the form is the
/// same for every respondent but for a handful of values (the CSRF token, the submission key,
/// the branch). Those become slots, filled and HTML-escaped per request.
struct PrerenderedPage: Sendable {
    enum Slot: String, CaseIterable, Sendable {
        case csrf, submissionKey, action, branchName, roundTitle, draftKey, deadline
        /// The way back to the page a form was reached from (an appraisal link's start page).
        case back
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
        // Byte by byte: the five characters are ASCII, and a page may escape fifty thousand
        // strings (a province's scatter plot).
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case 0x26: escaped += Array("&amp;".utf8)
            case 0x3C: escaped += Array("&lt;".utf8)
            case 0x3E: escaped += Array("&gt;".utf8)
            case 0x22: escaped += Array("&quot;".utf8)
            case 0x27: escaped += Array("&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}
