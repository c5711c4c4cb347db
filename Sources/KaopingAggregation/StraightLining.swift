/// Straight-lining: a response that gives every scored item the same option, whatever it asks.
/// A few such responses are normal; a branch's group where many answered that way is worth a
/// look before its score is trusted (docs/scoring.md, "Straight-lining"). The diagnostic page
/// lists such groups; nothing is removed or reweighted by it.
public enum StraightLining {
    /// Fewer responses than this say too little to flag a group.
    public static let fewestResponses = 5
    /// The share of straight-lined responses from which a group is flagged.
    public static let flaggedShare = 0.3

    /// The group's straight-lined share when it is flagged; `nil` otherwise, and always below
    /// the anonymity threshold, where the share is not disclosed.
    public static func flaggedShare(of group: GroupResult) -> Double? {
        guard let share = group.straightLinedShare, group.responses >= fewestResponses, share >= flaggedShare else { return nil }
        return share
    }
}
