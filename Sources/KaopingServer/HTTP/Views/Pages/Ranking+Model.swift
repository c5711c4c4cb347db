import Foundation
import KaopingAggregation
import KaopingForms

/// The ranking: every branch's combined score, group scores, grade and flags, a page at a time,
/// sortable and filtered by superior organisation.
struct ResultsPage: PageModel {
    struct GroupCell {
        let score: String
        let n: Int
        let insufficient: Bool
    }

    struct Row {
        let rank: String
        let code: String
        let name: String
        let parent: String?
        let combined: String
        let bonus: String
        let grade: String
        let band: String
        let gradeChanged: Bool
        let incomplete: Bool
        /// The combined score rests on some groups only: which ones, in words.
        let partial: String?
        let vetoed: Bool
        let quota: Bool
        let failed: String
        let report: String
        let organisation: GroupCell
        let members: GroupCell
        let `public`: GroupCell
    }

    struct Organisation {
        let name: String
        let selected: Bool
    }

    struct SortLinks {
        let rank: String
        let code: String
        let organisation: String
        let members: String
        let `public`: String
    }

    struct GroupsPresent {
        let organisation: Bool
        let members: Bool
        let `public`: Bool
    }

    let header: ResultsHeader
    let rows: [Row]
    let hasRows: Bool
    let count: Int
    let organisations: [Organisation]
    let hasOrganisations: Bool
    let filterAction: String
    let sortLinks: SortLinks
    let groupsPresent: GroupsPresent
    let pager: Pager?
}

extension ResultsPage {
    /// What the reader chose: one superior organisation's branches, an order and a page.
    struct Query: Equatable {
        /// Only the branches under this organisation; `nil` for every branch.
        let organisation: String?
        /// `code`, a rater group's name, or anything else for the rank (`ResultsPage.sorted`).
        let sort: String
        /// From 1.
        let page: Int

        /// Read as the query string gives them: an empty organisation is every branch, and a
        /// page below 1 is the first.
        init(organisation: String? = nil, sort: String? = nil, page: Int? = nil) {
            self.organisation = organisation.flatMap { $0.isEmpty ? nil : $0 }
            self.sort = sort ?? "rank"
            self.page = max(page ?? 1, 1)
        }
    }

    /// The ranking of a round's results as `query` asks for it, in `language`, `pageSize` rows
    /// a page; the items a branch failed by their labels in the round's frozen `forms`.
    static func make(
        _ result: RoundResult,
        configuration: RoundConfiguration,
        forms: [String: FormDefinition],
        roundID: UUID,
        header: ResultsHeader,
        query: Query,
        pageSize: Int,
        language: Language
    ) -> ResultsPage {
        var subjects = result.subjects
        let parents = Set(subjects.compactMap(\.parent)).sorted()
        if let organisation = query.organisation { subjects = subjects.filter { $0.parent == organisation } }
        subjects = sorted(subjects, by: query.sort)
        let pages = max((subjects.count + pageSize - 1) / pageSize, 1)
        let shown = subjects.dropFirst((query.page - 1) * pageSize).prefix(pageSize)
        func link(sort: String, page: Int? = nil) -> String {
            var parameters: [(String, String)] = []
            if let organisation = query.organisation { parameters.append(("org", organisation)) }
            parameters.append(("sort", sort))
            if let page, page > 1 { parameters.append(("page", String(page))) }
            return SiteURL.results(roundID).path(parameters)
        }
        let labels = ItemLabels(forms: forms, language: language)
        let rows = shown.map { row($0, roundID: roundID, labels: labels) }
        let groups = configuration.groups
        return ResultsPage(
            header: header,
            rows: rows,
            hasRows: !rows.isEmpty,
            count: subjects.count,
            organisations: parents.map { .init(name: $0, selected: $0 == query.organisation) },
            hasOrganisations: !parents.isEmpty,
            filterAction: SiteURL.results(roundID).path,
            sortLinks: .init(
                rank: link(sort: "rank"),
                code: link(sort: "code"),
                organisation: link(sort: RoundConfiguration.RaterGroup.organisation.rawValue),
                members: link(sort: RoundConfiguration.RaterGroup.members.rawValue),
                public: link(sort: RoundConfiguration.RaterGroup.public.rawValue)
            ),
            groupsPresent: .init(organisation: groups[.organisation] != nil, members: groups[.members] != nil, public: groups[.public] != nil),
            pager: Pager(page: query.page, pages: pages) { link(sort: query.sort, page: $0) }
        )
    }

    static func row(_ subject: SubjectResult, roundID: UUID, labels: ItemLabels) -> Row {
        let language = labels.language
        func cell(_ group: RoundConfiguration.RaterGroup) -> GroupCell {
            let result = subject[group: group]
            return .init(score: FigureText.score(result?.score), n: result?.n ?? 0, insufficient: result?.status == .insufficient)
        }
        let separator = language.text("group_separator")
        return Row(
            rank: subject.rank.map(String.init) ?? "–",
            code: subject.code,
            name: subject.name,
            parent: subject.parent,
            combined: FigureText.score(subject.combined),
            bonus: subject.bonus > 0 ? FigureText.score(subject.bonus) : "",
            grade: subject.grade ?? "–",
            band: subject.bandGrade ?? "",
            gradeChanged: subject.grade != subject.bandGrade && subject.grade != nil,
            incomplete: subject.status == .incomplete,
            partial: subject.groupsLeftOut.isEmpty
                ? nil
                : language.text(
                    "results_partial_note",
                    ["groups": subject.weightsUsed.map { language.text("group_\($0.group)") }.joined(separator: separator)]
                ),
            vetoed: subject.vetoed,
            quota: subject.droppedByQuota,
            failed: labels.sheetItems(subject.organisationSheet?.failedBaselines ?? [], separator: separator),
            report: SiteURL.branchReport(roundID, branchCode: subject.code).path,
            organisation: cell(.organisation),
            members: cell(.members),
            public: cell(.public)
        )
    }

    /// `key` is `code`, a rater group's name (best score first), or anything else for the rank.
    static func sorted(_ subjects: [SubjectResult], by key: String) -> [SubjectResult] {
        if key == "code" { return subjects.sorted { $0.code < $1.code } }
        guard let group = RoundConfiguration.RaterGroup(rawValue: key) else { return subjects }  // already in rank order
        func score(_ subject: SubjectResult) -> Double { subject[group: group]?.score ?? -1 }
        return subjects.sorted { score($0) != score($1) ? score($0) > score($1) : $0.code < $1.code }
    }
}
