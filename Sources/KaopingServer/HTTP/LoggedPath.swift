/// The form of a request path that may be written to a log.
///
/// An invitation path `/s/{token}` is the member's ballot: whoever reads it can answer in the
/// member's place, and the log line's time sits beside it. A public path `/p/{code}` is less
/// secret but still the key to a branch's public form; a visit code `/v/{code}` is one person's
/// one answer; an appraisal link `/a/{token}` is a member's ballot, self-assessment and result.
/// All keep their shape and lose the
/// secret, so that the logs still say which kind of page was asked for.
enum LoggedPath {
    static let secretPrefixes = [SiteURL.invitation(token: ""), .publicLink(code: ""), .visitCode(code: ""), .appraisalLink(token: "")].map(\.path)

    static func redacting(_ path: String) -> String {
        for prefix in secretPrefixes where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            // Keep what follows the secret (`/p/{code}/thanks`), never the secret itself.
            let tail = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? ""
            return prefix + "…" + tail
        }
        return path
    }
}
