import Foundation

/// The admin area's first page: next steps for administrators and evaluators, and for a
/// branch's viewer the reports of the rounds their branch took part in.
struct HomePage: PageModel {
    struct RoundLink {
        let title: String
        let status: String
        let report: String
    }

    let viewer: Bool
    let rounds: [RoundLink]
    let hasRounds: Bool

    static let general = HomePage(viewer: false, rounds: [])

    init(viewer: Bool, rounds: [RoundLink]) {
        self.viewer = viewer
        self.rounds = rounds
        self.hasRounds = !rounds.isEmpty
    }

    /// A viewer's page: the rounds their branch took part in that have started.
    init(viewerOf branchCode: String, rounds: [RoundSummary], language: Language) {
        self.init(
            viewer: true,
            rounds: rounds.map { round in
                RoundLink(
                    title: round.title,
                    status: language.text("round_status_\(round.status.rawValue)"),
                    report: SiteURL.branchReport(round.id, branchCode: branchCode).path
                )
            }
        )
    }
}
