/// What a round's publicity page (公示) lists, as the administrator chose it.
public enum PublicityShows: String, Codable, Sendable, CaseIterable {
    /// The branches proposed for the top grade only (拟评为优秀党支部名单), the usual notice.
    case top
    /// Every branch with its proposed grade.
    case grades
    /// Every branch with its proposed grade and combined score.
    case scores
}

/// The rows of a publicity page, made from a round's results and nothing else: no group
/// scores, no breakdowns, no comments; and a combined score only where every group it was
/// made from had at least k answers, since a score from fewer people is one the anonymity
/// threshold keeps from anyone but the committee (docs/publicity.md).
public struct PublicityList: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public let code: String
        public let name: String
        /// `nil` for a branch that did not reach the quorum: it has no proposed grade.
        public let grade: String?
        /// Shown only when the list shows scores and none of the score's groups is below k.
        public let score: Double?
        /// The list shows scores, but this one is withheld (a group below k).
        public let scoreWithheld: Bool
    }

    public let shows: PublicityShows
    public let rows: [Row]

    /// The rows, grouped by grade from the top band down (branches without a grade last),
    /// by code within a grade: a notice lists names under their grade, never a ranking.
    public static func make(_ result: RoundResult, shows: PublicityShows, grades: [String]) -> PublicityList {
        let order = Dictionary(grades.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        let topGrade = grades.first
        var rows: [Row] = []
        for subject in result.subjects {
            if shows == .top && (subject.grade == nil || subject.grade != topGrade) { continue }
            var score: Double?
            var withheld = false
            if shows == .scores, let combined = subject.combined {
                let counted = subject.groups.filter { $0.value.status == .sufficient && $0.value.weight > 0 }
                if counted.allSatisfy({ $0.value.breakdownShown }) { score = combined } else { withheld = true }
            }
            rows.append(Row(code: subject.code, name: subject.name, grade: subject.grade, score: score, scoreWithheld: withheld))
        }
        rows.sort { left, right in
            let l = left.grade.flatMap { order[$0] } ?? Int.max
            let r = right.grade.flatMap { order[$0] } ?? Int.max
            return l != r ? l < r : left.code < right.code
        }
        return PublicityList(shows: shows, rows: rows)
    }
}
