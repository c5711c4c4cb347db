import Foundation

/// Text made safe to put into a link the server builds.
enum URLText {
    /// For a query value: everything but letters and digits escaped.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// For one path segment: a slash is escaped too.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }
}
