import Foundation

/// What can be said about the address printed on slips and posters without asking the network.
public enum PublicAddress {
    /// Whether `url`'s host is one that a phone outside the office cannot reach: a loopback
    /// address, `localhost`, or a private, link-local or unique-local range. Such links work in
    /// a test, and on paper they are useless.
    public static func isLocalOnly(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased(), !host.isEmpty else { return true }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" || bare == "::" { return true }
        if bare.hasPrefix("fe80:") || bare.hasPrefix("fc") || bare.hasPrefix("fd") { return bare.contains(":") }
        let octets = bare.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4, bare.split(separator: ".").count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (127, _), (10, _), (0, _): return true
        case (172, 16...31), (192, 168), (169, 254): return true
        default: return false
        }
    }

    /// Whether the HTTP server listening on `host` can be reached only from this machine.
    public static func isLoopbackListener(_ host: String) -> Bool {
        let bare = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
