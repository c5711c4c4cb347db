import Foundation

/// Every file the admin area offers for one round, in one list: the routes serve each from it
/// and `kaoping export <name>` writes each from it, so the page and the command line always
/// offer the same files, made by the same code (`DownloadService`).
public enum RoundDownload: String, CaseIterable, Sendable {
    /// The ranking with every group's score, as on the results page.
    case results
    /// The results workbook: the ranking and every breakdown, a sheet each.
    case workbook
    /// Every anonymous answer, one line per answer (groups below the threshold left out).
    case responses
    /// Every evaluator's score sheet, item by item.
    case sheets
    /// The integrated sheet for the performance office.
    case integrated
    /// The two-skins diagnostic, one line per branch.
    case integration
    /// Members' invitation links, for mail merge.
    case invitations
    /// Members with a live invitation who have not answered yet.
    case pending

    /// The path the admin area serves it at.
    public func siteURL(_ roundID: String) -> SiteURL {
        switch self {
        case .results: .resultsCSV(roundID)
        case .workbook: .resultsXLSX(roundID)
        case .responses: .responsesCSV(roundID)
        case .sheets: .sheetsCSV(roundID)
        case .integrated: .integratedCSV(roundID)
        case .integration: .integrationCSV(roundID)
        case .invitations: .invitationsCSV(roundID)
        case .pending: .pendingCSV(roundID)
        }
    }

    /// Whether `?lang=en` gives its columns in English. The invitation lists have Chinese
    /// columns only, and their name follows the page's language.
    public var hasColumnsInEveryLanguage: Bool { self != .invitations && self != .pending }

    public var fileExtension: String { self == .workbook ? "xlsx" : "csv" }

    public var contentType: String {
        self == .workbook ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv; charset=utf-8"
    }

    /// The catalogue key of what the file holds, in its name.
    var nameKey: String {
        switch self {
        case .results, .workbook: "download_results"
        case .responses: "download_answers"
        case .sheets: "download_sheets"
        case .integrated: "download_integrated"
        case .integration: "download_integration"
        case .invitations: "download_invitations"
        case .pending: "download_pending"
        }
    }

    /// The ASCII start of its name, for clients that cannot take the round's title.
    var fallbackName: String {
        switch self {
        case .results, .workbook: "results"
        case .responses: "responses"
        case .sheets: "sheets"
        case .integrated: "integrated"
        case .integration: "integration"
        case .invitations: "invitations"
        case .pending: "pending"
        }
    }

    /// Whether its name says if the figures are provisional or final.
    var namesFinality: Bool { [.results, .workbook, .integrated, .integration].contains(self) }
}
