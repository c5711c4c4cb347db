/// What of a round's results may leave the server: the anonymity threshold, applied here once
/// for every page, download, API response and command (docs/scoring.md, "Anonymity threshold").
///
/// A survey group of a branch with fewer than k scored responses keeps what the combined score
/// is made of (its count, mean, weight and quorum status: the combined score is always shown,
/// and with the other groups' means it gives this mean back anyway) and loses everything finer:
/// dimension scores, spread, satisfaction, straight-lining, and — by `groupsWithBreakdown` — its
/// answers' distribution, comments and rows in the answers export.
public enum Disclosure {
    /// The rule itself: a survey group's breakdown is shown from k scored responses on.
    public static func showsBreakdown(scoredResponses: Int, threshold: Int) -> Bool {
        scoredResponses >= threshold
    }
}

extension GroupResult {
    public var disclosed: GroupResult {
        guard !breakdownShown else { return self }
        var shown = self
        shown.standardDeviation = nil
        shown.confidenceLow = nil
        shown.confidenceHigh = nil
        shown.dimensions = [:]
        shown.satisfactionRate = nil
        shown.straightLinedShare = nil
        return shown
    }
}

extension SubjectResult {
    public var disclosed: SubjectResult {
        var shown = self
        shown.groups = groups.mapValues(\.disclosed)
        return shown
    }
}

extension RoundResult {
    public var disclosed: RoundResult {
        var shown = self
        shown.subjects = subjects.map(\.disclosed)
        return shown
    }

    /// The branch code and group ("b01/members") of every group whose answers, comments and
    /// spread over options may be shown and exported.
    public var groupsWithBreakdown: Set<String> {
        var shown: Set<String> = []
        for subject in subjects {
            for (group, result) in subject.groups where result.breakdownShown { shown.insert("\(subject.code)/\(group)") }
        }
        return shown
    }
}
