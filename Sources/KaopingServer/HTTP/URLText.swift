import Foundation

/// Text made safe to put into a link the server builds.
enum URLText {
    /// For a query value: everything but letters and digits escaped.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// For one path segment: a slash is escaped too.
    static func pathSegment(_ text: String) -> String {
        // Codes and ids are letters, digits, '-', '_' and '.': nothing to escape, and no
        // character set to build (which Foundation does on every call).
        if text.utf8.allSatisfy({ plainBytes.contains($0) }) { return text }
        return text.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? text
    }

    private static let segmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
    private static let plainBytes = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".utf8))
}
