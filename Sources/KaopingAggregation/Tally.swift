/// A set of scores (0–100) summed exactly: everything the method needs of them without keeping
/// each one, so that a group of a million responses costs the method as little as a group of
/// ten, and the database can do the summing.
///
/// Each value is counted in whole decimal steps — a billionth of a point for means, a ten
/// millionth for the spread, whose squares must still fit 64 bits in the database — and the
/// steps are summed as integers. Integer sums do not depend on the order of the values, so the
/// same scores give the same bits whether they are summed here or by PostgreSQL (`sum` over
/// `bigint` is exact), in any order. Decimal steps keep decimal scores whole: five answers of
/// 44.44 have the mean 44.44, not 44.440000000000005. A step is far below the hundredth that
/// scores are shown and compared in.
public struct ScoreTally: Sendable, Equatable {
    /// Steps per point for sums and means.
    public static let meanScale: Double = 1e9
    /// Steps per point for the spread.
    public static let spreadScale: Double = 1e7

    /// Exact sums of a set's values and of their squares, in `spreadScale` steps.
    public struct Spread: Sendable, Equatable {
        public var sum: Int128
        public var squares: Int128

        public init(sum: Int128 = 0, squares: Int128 = 0) {
            self.sum = sum
            self.squares = squares
        }
    }

    public var count: Int
    /// Σ of the values in `meanScale` steps.
    public var sum: Int128
    /// Present where the method reports a spread (response scores; not dimension scores).
    public var spread: Spread?
    /// The smallest values, ascending, as many as trimming may drop (or all of them).
    public var lowest: [Double]
    /// The largest values, descending, as many as `lowest`.
    public var highest: [Double]

    public init(count: Int, sum: Int128, spread: Spread?, lowest: [Double], highest: [Double]) {
        self.count = count
        self.sum = sum
        self.spread = spread
        self.lowest = lowest
        self.highest = highest
    }

    /// Tallies `values`, keeping the `extremes` smallest and largest for trimming.
    public init(_ values: [Double], extremes: Int, withSpread: Bool) {
        let sorted = values.sorted()
        let kept = min(max(extremes, 0), sorted.count)
        var sum: Int128 = 0
        var spread = Spread()
        for value in sorted {
            sum += Self.meanSteps(value)
            let steps = Self.spreadSteps(value)
            spread.sum += steps
            spread.squares += steps * steps
        }
        self.init(
            count: sorted.count,
            sum: sum,
            spread: withSpread ? spread : nil,
            lowest: Array(sorted.prefix(kept)),
            highest: Array(sorted.suffix(kept).reversed())
        )
    }

    /// A value in `meanScale` steps, rounded to the nearest (ties to even) as PostgreSQL's
    /// `(value * 1000000000::float8)::bigint` does.
    public static func meanSteps(_ value: Double) -> Int128 {
        Int128(Int64((value * meanScale).rounded(.toNearestOrEven)))
    }

    /// A value in `spreadScale` steps, as `(value * 10000000::float8)::bigint`.
    public static func spreadSteps(_ value: Double) -> Int128 {
        Int128(Int64((value * spreadScale).rounded(.toNearestOrEven)))
    }

    /// The nearest double (ties to even), as `Double(value)` gives it, without the standard
    /// library's general conversion from 128 bits, which measured a tenth of a province's
    /// results: the spread's n·Σx² − (Σx)² passes 64 bits from about forty answers.
    static func double(_ value: Int128) -> Double {
        if let narrow = Int64(exactly: value) { return Double(narrow) }
        // The top 64 bits, with a sticky bit standing for every bit below them that is set,
        // round to 53 bits exactly as the whole number would; scaling back by a power of two
        // is exact.
        let magnitude = value.magnitude
        let dropped = 64 - magnitude.leadingZeroBitCount
        let below = magnitude & ((1 << dropped) - 1)
        let top = UInt64(truncatingIfNeeded: magnitude >> dropped) | (below == 0 ? 0 : 1)
        let rounded = Double(top) * Double(sign: .plus, exponent: dropped, significand: 1)
        return value < 0 ? -rounded : rounded
    }

    public var mean: Double? {
        // One division of two exact numbers: the mean of whole steps, correctly rounded.
        count > 0 ? Self.double(sum) / (Double(count) * Self.meanScale) : nil
    }

    /// How many values trimming keeps and their mean (spec §2): `drop` taken from each end when
    /// there are at least `from` values.
    public func trimmed(_ trimming: RoundConfiguration.Trimming) -> (kept: Int, mean: Double?) {
        guard trimming.drop > 0, count >= trimming.from, count > 2 * trimming.drop else { return (count, mean) }
        precondition(lowest.count >= trimming.drop && highest.count >= trimming.drop, "tally kept too few extremes to trim")
        var kept = sum
        for value in lowest.prefix(trimming.drop) { kept -= Self.meanSteps(value) }
        for value in highest.prefix(trimming.drop) { kept -= Self.meanSteps(value) }
        let remaining = count - 2 * trimming.drop
        return (remaining, Self.double(kept) / (Double(remaining) * Self.meanScale))
    }

    /// Σ (value − mean)², exact up to the final division; `nil` without a spread or values.
    public var squaredDeviations: Double? {
        guard let spread, count > 0 else { return nil }
        // n·Σx² − (Σx)² is an exact integer, and never negative.
        let scaled = Int128(count) * spread.squares - spread.sum * spread.sum
        return Self.double(scaled) / (Double(count) * Self.spreadScale * Self.spreadScale)
    }

    /// Sample standard deviation (n − 1); `nil` below two values.
    public var sampleStandardDeviation: Double? {
        guard count >= 2, let squares = squaredDeviations else { return nil }
        return (squares / Double(count - 1)).squareRoot()
    }

    /// The two-sided 95% confidence interval of the untrimmed mean (Student t); `nil` below two values.
    public var confidenceInterval95: (low: Double, high: Double)? {
        guard let mean, let sd = sampleStandardDeviation else { return nil }
        let half = Statistics.studentT975(degreesOfFreedom: count - 1) * sd / Double(count).squareRoot()
        return (mean - half, mean + half)
    }
}

/// One subject's responses from one rater group, tallied (spec §2 and §6): what the method reads
/// instead of the responses themselves. The server has PostgreSQL tally a round's responses
/// per branch; tests and small callers tally `ResponseInput`s here, with the same result.
public struct ResponseTally: Sendable, Equatable {
    /// Every response, scored or not.
    public var responses: Int
    /// The response scores, with their spread.
    public var scores: ScoreTally
    /// Each dimension's scores in the order of the round's dimension keys for the group.
    public var dimensions: [ScoreTally]
    public var straightLined: Int
    /// Responses that chose a satisfied option, of those that chose a scored option.
    public var satisfied: Int
    public var satisfactionAnswered: Int

    public init(
        responses: Int,
        scores: ScoreTally,
        dimensions: [ScoreTally],
        straightLined: Int,
        satisfied: Int,
        satisfactionAnswered: Int
    ) {
        self.responses = responses
        self.scores = scores
        self.dimensions = dimensions
        self.straightLined = straightLined
        self.satisfied = satisfied
        self.satisfactionAnswered = satisfactionAnswered
    }

    /// Tallies responses, keeping `extremes` values at each end (by default all of them, which
    /// allows any trimming).
    public init(_ responses: [ResponseInput], extremes: Int = .max) {
        let dimensionCount = responses.map(\.dimensions.count).max() ?? 0
        self.init(
            responses: responses.count,
            scores: ScoreTally(responses.compactMap(\.score), extremes: extremes, withSpread: true),
            dimensions: (0..<dimensionCount).map { position in
                ScoreTally(
                    responses.compactMap { position < $0.dimensions.count ? $0.dimensions[position] : nil },
                    extremes: extremes,
                    withSpread: false
                )
            },
            straightLined: responses.filter(\.straightLined).count,
            satisfied: responses.filter { $0.satisfied == true }.count,
            satisfactionAnswered: responses.filter { $0.satisfied != nil }.count
        )
    }

    public static let empty = ResponseTally([])

    /// The tally of both sets of responses: counts and sums added, each measure's extremes
    /// merged and `extremes` kept at each end — what tallying the two sets together would give,
    /// as long as each side kept that many (or all of its values). A dimension one side lacks
    /// counts as one with no values there.
    public func adding(_ other: ResponseTally, keeping extremes: Int) -> ResponseTally {
        let none = ScoreTally(count: 0, sum: 0, spread: nil, lowest: [], highest: [])
        return ResponseTally(
            responses: responses + other.responses,
            scores: scores.adding(other.scores, keeping: extremes),
            dimensions: (0..<max(dimensions.count, other.dimensions.count)).map { position in
                let mine = position < dimensions.count ? dimensions[position] : none
                return mine.adding(position < other.dimensions.count ? other.dimensions[position] : none, keeping: extremes)
            },
            straightLined: straightLined + other.straightLined,
            satisfied: satisfied + other.satisfied,
            satisfactionAnswered: satisfactionAnswered + other.satisfactionAnswered
        )
    }
}

extension ScoreTally {
    /// The tally of both sets of values, `extremes` kept at each end (see
    /// `ResponseTally.adding(_:keeping:)`).
    public func adding(_ other: ScoreTally, keeping extremes: Int) -> ScoreTally {
        let spread: Spread? =
            if self.spread == nil && other.spread == nil {
                nil
            } else {
                Spread(
                    sum: (self.spread?.sum ?? 0) + (other.spread?.sum ?? 0),
                    squares: (self.spread?.squares ?? 0) + (other.spread?.squares ?? 0)
                )
            }
        return ScoreTally(
            count: count + other.count,
            sum: sum + other.sum,
            spread: spread,
            lowest: Array((lowest + other.lowest).sorted().prefix(max(extremes, 0))),
            highest: Array((highest + other.highest).sorted(by: >).prefix(max(extremes, 0)))
        )
    }
}
