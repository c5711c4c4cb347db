/// Krippendorff's alpha for interval data, where each unit (a subject) has values from raters
/// who need not be known: alpha = 1 − D_o / D_e over the pairable values (units with two or
/// more values). Both disagreements are written with squared deviations from a mean, which
/// equals the pairwise form Σ_{i≠j} (v_i − v_j)² = 2 m Σ (v_i − v̄)² and stays accurate.
public enum Krippendorff {
    public static func intervalAlpha(_ units: [[Double]]) -> Double? {
        let pairable = units.filter { $0.count >= 2 }.map { $0.sorted() }
        let n = pairable.reduce(0) { $0 + $1.count }
        guard n >= 2 else { return nil }
        var within = 0.0
        for values in pairable {
            let m = Double(values.count)
            within += 2 * m * squaredDeviations(values) / (m - 1)
        }
        let observed = within / Double(n)
        let all = pairable.flatMap { $0 }.sorted()
        let expected = 2 * Double(n) * squaredDeviations(all) / (Double(n) * Double(n - 1))
        guard expected > 0 else { return nil }
        return 1 - observed / expected
    }

    private static func squaredDeviations(_ values: [Double]) -> Double {
        var sum = 0.0
        for value in values { sum += value }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for value in values { squares += (value - mean) * (value - mean) }
        return squares
    }
}
