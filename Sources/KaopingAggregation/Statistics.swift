import Foundation
import Synchronization

/// The few statistics the method needs beside its exact sums (`ScoreTally`), written out so
/// that every figure is reproducible to the bit.
public enum Statistics {
    /// The 0.975 quantile of Student's t for whole degrees of freedom, the one every confidence
    /// interval needs: found by bisection once per degree of freedom and kept, instead of once
    /// per group — a round has tens of thousands of groups, of a few hundred sizes.
    public static func studentT975(degreesOfFreedom df: Int) -> Double {
        if let known = t975.withLock({ $0[df] }) { return known }
        let value = studentTQuantile(0.975, degreesOfFreedom: Double(df))
        t975.withLock { $0[df] = value }
        return value
    }

    private static let t975 = Mutex<[Int: Double]>([:])

    /// The p-quantile of Student's t distribution (0.5 < p < 1), by bisection on its CDF.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        precondition(p > 0.5 && p < 1 && df > 0)
        var low = 0.0
        var high = 1.0
        while studentTCDF(high, df) < p { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if studentTCDF(middle, df) < p { low = middle } else { high = middle }
            if high - low < 1e-12 { break }
        }
        return (low + high) / 2
    }

    /// P(T ≤ t) for t ≥ 0.
    static func studentTCDF(_ t: Double, _ df: Double) -> Double {
        let x = df / (df + t * t)
        return 1 - 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5)
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaContinuedFraction(x, a, b) / a
        }
        return 1 - exp(logFront) * betaContinuedFraction(1 - x, b, a) / b
    }

    private static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            h *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return h
    }

    /// Rounds half away from zero to two decimals, the way scores are shown and compared.
    /// Binary doubles hold 68.125 computed two ways as 68.12499999999999 or 68.12500000000001,
    /// and most decimals (68.135) not at all; snapping to a millionth of a hundredth first
    /// rounds what the arithmetic meant, whichever way the weights were written.
    public static func rounded2(_ value: Double) -> Double {
        let hundredths = ((value * 100) * 1e6).rounded() / 1e6
        return hundredths.rounded(.toNearestOrAwayFromZero) / 100
    }
}
