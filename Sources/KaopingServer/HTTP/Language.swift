import Foundation
import Hummingbird

/// The interface languages. Chinese first; English where asked.
public enum Language: String, Sendable, CaseIterable {
    case chinese = "zh-Hans"
    case english = "en"

    /// Picks the language from `?lang=`, then the `kp_lang` cookie, then `Accept-Language`.
    static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> Language {
        if let query, let language = Language(code: query) { return language }
        if let cookie, let language = Language(code: cookie) { return language }
        guard let acceptLanguage else { return .chinese }
        // Highest q first; the first zh or en wins; anything else keeps Chinese.
        let ranked = acceptLanguage.split(separator: ",").enumerated().compactMap { index, part -> (String, Double, Int)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first, !tag.isEmpty else { return nil }
            var quality = 1.0
            for piece in pieces.dropFirst() where piece.hasPrefix("q=") {
                quality = Double(piece.dropFirst(2)) ?? 0
            }
            return (tag.lowercased(), quality, index)
        }
        .filter { $0.1 > 0 }
        .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }
        for (tag, _, _) in ranked {
            if tag.hasPrefix("zh") { return .chinese }
            if tag.hasPrefix("en") { return .english }
        }
        return .chinese
    }

    init?(code: String) {
        switch code.lowercased() {
        case "zh", "zh-hans", "zh-cn": self = .chinese
        case "en", "en-us", "en-gb": self = .english
        default: return nil
        }
    }
}
