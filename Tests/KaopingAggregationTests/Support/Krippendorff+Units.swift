@testable import KaopingAggregation

extension Krippendorff {
    /// Alpha of whole units at once, through the pool the scoring fills one unit at a time.
    static func intervalAlpha(_ units: [ScoreTally]) -> Double? {
        var pool = Pool()
        for unit in units {
            if let disagreement = pool.addValues(of: unit) { pool.addDisagreement(disagreement) }
        }
        return pool.alpha
    }

    /// Alpha of units given value by value.
    static func intervalAlpha(_ units: [[Double]]) -> Double? {
        intervalAlpha(units.map { ScoreTally($0, extremes: 0, withSpread: true) })
    }
}
