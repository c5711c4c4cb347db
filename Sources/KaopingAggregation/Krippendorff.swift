/// Krippendorff's alpha for interval data, where each unit (a subject) has values from raters
/// who need not be known: alpha = 1 − D_o / D_e over the pairable values (units with two or
/// more values). Both disagreements are written with squared deviations from a mean, which
/// equals the pairwise form Σ_{i≠j} (v_i − v_j)² = 2 m Σ (v_i − v̄)², so each unit needs only
/// its tally: the exact sums give the squared deviations within a unit and over all of them.
public enum Krippendorff {
    /// What alpha needs of a set of units, gathered one unit at a time and never the units
    /// themselves: a province's round has 25,000 of them per group.
    public struct Pool: Sendable {
        private var count = 0
        private var total = ScoreTally.Spread()
        private var within = 0.0

        public init() {}

        /// Adds a pairable unit's values to the pool's exact sums, in any order, and returns the
        /// disagreement within it, for `addDisagreement`; `nil`, adding nothing, for a unit with
        /// fewer than two values or no spread.
        public mutating func addValues(of unit: ScoreTally) -> Double? {
            guard unit.count >= 2, let spread = unit.spread, let squares = unit.squaredDeviations else { return nil }
            count += unit.count
            total.sum += spread.sum
            total.squares += spread.squares
            let m = Double(unit.count)
            return 2 * m * squares / (m - 1)
        }

        /// Adds a unit's disagreement. It is a floating sum: callers add the units in one fixed
        /// order (by subject code), so that the same round gives the same bits.
        public mutating func addDisagreement(_ disagreement: Double) {
            within += disagreement
        }

        public var alpha: Double? {
            let all = ScoreTally(count: count, sum: 0, spread: total, lowest: [], highest: [])
            guard all.count >= 2, let squares = all.squaredDeviations else { return nil }
            let n = Double(all.count)
            let observed = within / n
            let expected = 2 * n * squares / (n * (n - 1))
            guard expected > 0 else { return nil }
            return 1 - observed / expected
        }
    }
}
