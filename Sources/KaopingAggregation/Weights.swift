/// How a branch's combined score was made up, so that it can be checked by hand: the groups it
/// rests on, each with the share of the weight it carried after reweighting (spec §4).
extension SubjectResult {
    public struct WeightUsed: Equatable, Sendable {
        public var group: String
        /// The group's weight divided by the weights of all groups that counted (0–1).
        public var share: Double
        public var score: Double
    }

    /// The order groups are shown in.
    public static let groupOrder = RoundConfiguration.RaterGroup.allCases.map(\.rawValue)

    /// The groups that entered the combined score, in the usual order; empty when it has none.
    public var weightsUsed: [WeightUsed] {
        guard combinedBeforeBonus != nil else { return [] }
        let counted = Self.groupOrder.compactMap { name -> (String, GroupResult, Double)? in
            guard let group = groups[name], group.status == .sufficient, let score = group.score, group.weight > 0 else { return nil }
            return (name, group, score)
        }
        let total = counted.reduce(0) { $0 + $1.1.weight }
        guard total > 0 else { return [] }
        return counted.map { WeightUsed(group: $0.0, share: $0.1.weight / total, score: $0.2) }
    }

    /// Groups of the round that did not enter this branch's combined score (below quorum, or
    /// nothing received): the score rests on the others only.
    public var groupsLeftOut: [String] {
        guard combinedBeforeBonus != nil else { return [] }
        let used = Set(weightsUsed.map(\.group))
        return Self.groupOrder.filter { name in
            guard let group = groups[name] else { return false }
            return group.weight > 0 && !used.contains(name)
        }
    }
}
