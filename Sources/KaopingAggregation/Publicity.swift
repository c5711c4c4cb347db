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

extension RoundResult {
    /// Sets the grades the committee decided (by subject code) over the method's, each with its
    /// reason and the grade it replaces. Ranks and scores stay the method's.
    public mutating func apply(decisions: [String: (grade: String, reason: String)]) {
        guard !decisions.isEmpty else { return }
        for index in subjects.indices {
            guard let decided = decisions[subjects[index].code] else { continue }
            subjects[index].decision = GradeDecision(grade: decided.grade, reason: decided.reason, methodGrade: subjects[index].grade)
            subjects[index].grade = decided.grade
        }
    }
}

/// One figure of one branch that a correction changed.
public struct ResultChange: Codable, Sendable, Equatable {
    public let code: String
    public let name: String
    /// `combined`, `grade`, `rank`, `status`, or a rater group's name for its score.
    public let figure: String
    /// As shown: scores with two decimals, ranks as numbers; `nil` for none.
    public let before: String?
    public let after: String?

    public init(code: String, name: String, figure: String, before: String?, after: String?) {
        self.code = code
        self.name = name
        self.figure = figure
        self.before = before
        self.after = after
    }
}

/// What changed between two results of the same round, figure by figure, as people read them
/// (two decimals): a correction's difference list.
public enum ResultsDifference {
    public static func between(_ before: RoundResult, _ after: RoundResult) -> [ResultChange] {
        let old = Dictionary(before.subjects.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [ResultChange] = []
        for subject in after.subjects.sorted(by: { $0.code < $1.code }) {
            let previous = old[subject.code]
            func note(_ figure: String, _ from: String?, _ to: String?) {
                if from != to { changes.append(ResultChange(code: subject.code, name: subject.name, figure: figure, before: from, after: to)) }
            }
            let groups = Set(subject.groups.map(\.key)).union(previous.map { Set($0.groups.map(\.key)) } ?? []).sorted()
            for group in groups {
                note(group, score(previous?.groups[group]?.score), score(subject.groups[group]?.score))
            }
            note("combined", score(previous?.combined), score(subject.combined))
            note("grade", previous?.grade, subject.grade)
            note("rank", previous?.rank.map(String.init), subject.rank.map(String.init))
            note("status", previous?.status.rawValue, subject.status.rawValue)
        }
        return changes
    }

    private static func score(_ value: Double?) -> String? {
        value.map { String(format: "%.2f", $0) }
    }
}
