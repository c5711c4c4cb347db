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
    public mutating func disclose() {
        guard !breakdownShown else { return }
        standardDeviation = nil
        confidenceLow = nil
        confidenceHigh = nil
        dimensions = [:]
        satisfactionRate = nil
        straightLinedShare = nil
    }
}

extension SubjectResult {
    /// In place, so that a result nobody else holds is not copied: a province's is tens of
    /// megabytes.
    public mutating func disclose() {
        // Names first: changing the groups while iterating them would copy them.
        let hidden = groups.compactMap { $0.value.breakdownShown ? nil : $0.key }
        for name in hidden { groups[name]?.disclose() }
    }
}

extension RoundResult {
    public mutating func disclose() {
        for index in subjects.indices { subjects[index].disclose() }
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
