// KaopingForms: form definitions read from forms/ (with every problem's file and line),
// checking a submission and scoring one response. No HTTP, no database.

/// One item's answer, as stored.
public enum Answer: Codable, Sendable, Hashable {
    /// The key of the chosen option (rating and choice items).
    case option(String)
    /// Free text (text and long-text items).
    case text(String)
    /// Score sheets: points lost (deduction) or earned (bonus), with the evaluator's note.
    case points(Double, note: String)
    /// Score sheets: a baseline item passed or failed, with the evaluator's note.
    case baseline(passed: Bool, note: String)
}

/// What a submission scored (aggregation spec §1).
public struct ResponseScore: Sendable, Equatable {
    /// Weighted mean of the scored items' points; `nil` when no item was scored.
    public var score: Double?
    /// The same, per dimension key.
    public var dimensionScores: [String: Double]
    /// Points of each scored answer, by item key.
    public var itemPoints: [String: Double]
    /// Every scored item got the same points, over at least five items (spec §6).
    public var straightLined: Bool
    /// For a form with a satisfaction item: whether the chosen option counts as satisfied;
    /// `nil` when the item was skipped or answered with an unscored option (不了解).
    public var satisfied: Bool?

    public init(score: Double?, dimensionScores: [String: Double], itemPoints: [String: Double], straightLined: Bool, satisfied: Bool? = nil) {
        self.score = score
        self.dimensionScores = dimensionScores
        self.itemPoints = itemPoints
        self.straightLined = straightLined
        self.satisfied = satisfied
    }
}

extension FormDefinition {
    /// Scores one response. Unscored options and skipped items drop out: they are neither
    /// zero nor counted.
    public func score(_ answers: [String: Answer]) -> ResponseScore {
        var itemPoints: [String: Double] = [:]
        var total = 0.0
        var totalWeight = 0.0
        var byDimension: [String: (sum: Double, weight: Double)] = [:]
        for item in items where item.isScored {
            guard case .option(let key) = answers[item.key], let points = item.option(key)?.points else { continue }
            itemPoints[item.key] = points
            total += points * item.weight
            totalWeight += item.weight
            if let dimension = item.dimension {
                byDimension[dimension, default: (0, 0)].sum += points * item.weight
                byDimension[dimension, default: (0, 0)].weight += item.weight
            }
        }
        let distinct = Set(itemPoints.values)
        var satisfied: Bool?
        if let key = satisfactionItem, let item = item(key), case .option(let chosen) = answers[key],
            let option = item.option(chosen), option.points != nil
        {
            satisfied = option.satisfied
        }
        return ResponseScore(
            score: totalWeight > 0 ? total / totalWeight : nil,
            dimensionScores: byDimension.compactMapValues { $0.weight > 0 ? $0.sum / $0.weight : nil },
            itemPoints: itemPoints,
            straightLined: itemPoints.count >= 5 && distinct.count == 1,
            satisfied: satisfied
        )
    }
}
