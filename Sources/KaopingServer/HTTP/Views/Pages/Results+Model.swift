import Foundation
import KaopingAggregation

/// What the results pages share: which round, whether the figures are final, how they were
/// computed, and where the pages and downloads of the round's results are. The templates read
/// it inside `{{#header}}…{{/header}}`.
struct ResultsHeader {
    struct Links {
        let round: String
        let results: String
        let diagnostics: String
        let integration: String
        let integrated: String
        let integratedCSV: String
        let integrationCSV: String
        let watch: String
        let xlsx: String
        let xlsxEnglish: String
        let csv: String
        let csvEnglish: String
        let responses: String
        let sheets: String

        init(_ id: UUID) {
            let key = id.lowercased
            round = SiteURL.round(id).path
            results = SiteURL.results(id).path
            diagnostics = SiteURL.diagnostics(key).path
            integration = SiteURL.integration(key).path
            integrated = SiteURL.integratedSheet(key).path
            integratedCSV = SiteURL.integratedCSV(key).path
            integrationCSV = SiteURL.integrationCSV(key).path
            watch = SiteURL.watchList(key).path
            xlsx = SiteURL.resultsXLSX(key).path
            xlsxEnglish = SiteURL.resultsXLSX(key).path(["lang": "en"])
            csv = SiteURL.resultsCSV(key).path
            csvEnglish = SiteURL.resultsCSV(key).path(["lang": "en"])
            responses = SiteURL.responsesCSV(key).path
            sheets = SiteURL.sheetsCSV(key).path
        }
    }

    /// Provisional results read from a standby: how far it had replayed the primary's changes.
    struct StandbyNotice {
        /// Asia/Shanghai time of the last change replayed, or empty before any.
        let asOf: String
        let paused: Bool
    }

    let title: String
    let provisional: Bool
    let standby: StandbyNotice?
    let computedAt: String
    let method: String
    let configHash: String
    let links: Links
}

extension ResultsHeader {
    init(round: RoundSummary, current: CurrentResults) {
        title = round.title
        provisional = current.provisional
        standby = current.standby.map { StandbyNotice(asOf: $0.replayedUpTo.map(ChinaTime.formatWithSeconds) ?? "", paused: $0.paused) }
        computedAt = ChinaTime.format(current.computedAt)
        method = current.result.methodVersion
        configHash = String(current.result.configurationHash.prefix(12))
        links = Links(round.id)
    }
}

/// Figures as the pages show them: two decimals as in the downloads, a dash for no score.
enum FigureText {
    static func score(_ value: Double?) -> String {
        value == nil ? "–" : ResultsTable.decimal(value)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// A rank gap as read: "+2", "0", "-1".
    static func signed(_ value: Int) -> String {
        value > 0 ? "+\(value)" : "\(value)"
    }

    /// A change of score as read: "+2.10", "-0.50".
    static func signedScore(_ value: Double) -> String {
        let text = ResultsTable.decimal(value)
        return value > 0 && text != "0.00" ? "+" + text : text
    }

    static func percent(_ share: Double?, decimals: Int = 1) -> String {
        share.map { String(format: "%.\(decimals)f%%", $0 * 100) } ?? ""
    }
}
