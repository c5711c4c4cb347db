/// Krippendorff's alpha for interval data, where each unit (a subject) has values from raters
/// who need not be known: alpha = 1 − D_o / D_e over the pairable values (units with two or
/// more values). Both disagreements are written with squared deviations from a mean, which
/// equals the pairwise form Σ_{i≠j} (v_i − v_j)² = 2 m Σ (v_i − v̄)², so each unit needs only
/// its tally: the exact sums give the squared deviations within a unit and over all of them.
public enum Krippendorff {
    public static func intervalAlpha(_ units: [ScoreTally]) -> Double? {
        var count = 0
        var total = ScoreTally.Spread()
        var within = 0.0
        for unit in units where unit.count >= 2 {
            guard let spread = unit.spread, let squares = unit.squaredDeviations else { continue }
            let m = Double(unit.count)
            within += 2 * m * squares / (m - 1)
            count += unit.count
            total.sum += spread.sum
            total.squares += spread.squares
        }
        let all = ScoreTally(count: count, sum: 0, spread: total, lowest: [], highest: [])
        guard all.count >= 2, let squares = all.squaredDeviations else { return nil }
        let n = Double(all.count)
        let observed = within / n
        let expected = 2 * n * squares / (n * (n - 1))
        guard expected > 0 else { return nil }
        return 1 - observed / expected
    }

    /// Alpha of units given value by value.
    public static func intervalAlpha(_ units: [[Double]]) -> Double? {
        intervalAlpha(units.map { ScoreTally($0, extremes: 0, withSpread: true) })
    }
}
