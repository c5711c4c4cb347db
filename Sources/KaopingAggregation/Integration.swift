import Foundation

/// Party-building results read beside business performance (`docs/integration.md`): a
/// branch's business score from its units' results, where a branch stands on both (its
/// quadrant and its rank gap), and how closely the two orders agree across branches.
///
/// Pure arithmetic, like the rest of this library: the server reads the scores from the
/// database and says the results in words.
public enum Integration {
    // MARK: A branch's business score

    /// One business unit's result for a year, with the headcount its score is weighted by.
    public struct UnitScore: Sendable, Equatable {
        public let score: Double
        public let headcount: Int?

        public init(score: Double, headcount: Int?) {
            self.score = score
            self.headcount = headcount
        }
    }

    /// The mean of the units' scores weighted by their headcounts; equal weights when any unit
    /// has no headcount (or none above zero), so that a missing column never weights a unit as
    /// zero. `nil` without units.
    public static func businessScore(_ units: [UnitScore]) -> Double? {
        guard !units.isEmpty else { return nil }
        let weights = units.map { $0.headcount ?? 0 }
        if weights.allSatisfy({ $0 > 0 }) {
            let total = Double(weights.reduce(0, +))
            return zip(units, weights).reduce(0) { $0 + $1.0.score * Double($1.1) } / total
        }
        return units.reduce(0) { $0 + $1.score } / Double(units.count)
    }

    // MARK: Ranks

    /// Ranks from 1 for the smallest value, tied values sharing the mean of their positions:
    /// the ranks Spearman's coefficient is computed on.
    public static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let shared = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = shared }
            start = end + 1
        }
        return ranks
    }

    /// Competition ranks, 1 for the highest value (1, 2, 2, 4), as rankings are read.
    public static func competitionRanks(_ values: [Double]) -> [Int] {
        let order = values.indices.sorted { values[$0] > values[$1] }
        var ranks = [Int](repeating: 0, count: values.count)
        for (position, index) in order.enumerated() {
            if position > 0, values[order[position - 1]] == values[index] {
                ranks[index] = ranks[order[position - 1]]
            } else {
                ranks[index] = position + 1
            }
        }
        return ranks
    }

    // MARK: Correlation

    /// A correlation coefficient with its 95% confidence interval and the number of pairs.
    public struct Correlation: Sendable, Equatable {
        public let coefficient: Double
        /// Fisher's z interval; `nil` with three pairs or fewer.
        public let low: Double?
        public let high: Double?
        public let n: Int

        /// Fewer pairs than this are too few to lean on.
        public static let enoughPairs = 10

        /// Too few pairs to lean on, or an interval that does not exclude "no relation".
        public var needsCaution: Bool {
            tooFewPairs || intervalIncludesZero != false
        }

        /// Fewer than `enoughPairs` pairs.
        public var tooFewPairs: Bool { n < Self.enoughPairs }

        /// Whether the interval includes 0 ("no relation"); `nil` when there is no interval.
        public var intervalIncludesZero: Bool? {
            guard let low, let high else { return nil }
            return low <= 0 && high >= 0
        }
    }

    /// Pearson's r of paired values; `nil` with fewer than two pairs or no spread in either.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "pairs")
        guard x.count >= 2 else { return nil }
        let n = Double(x.count)
        let meanX = x.reduce(0, +) / n
        let meanY = y.reduce(0, +) / n
        var sumXY = 0.0
        var sumXX = 0.0
        var sumYY = 0.0
        for (a, b) in zip(x, y) {
            sumXY += (a - meanX) * (b - meanY)
            sumXX += (a - meanX) * (a - meanX)
            sumYY += (b - meanY) * (b - meanY)
        }
        guard sumXX > 0, sumYY > 0 else { return nil }
        return max(-1, min(1, sumXY / (sumXX * sumYY).squareRoot()))
    }

    /// Pearson's r with its 95% interval by Fisher's z (standard error 1/√(n−3)).
    public static func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Correlation? {
        pearson(x, y).map { withInterval($0, n: x.count) }
    }

    /// Spearman's rank correlation (Pearson's r of the average ranks, so ties are handled as
    /// the textbooks do) with its 95% interval by Fisher's z (standard error 1/√(n−3)).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Correlation? {
        pearson(averageRanks(x), averageRanks(y)).map { withInterval($0, n: x.count) }
    }

    /// The two-sided 95% point of the standard normal distribution.
    static let z975 = 1.959_963_984_540_054

    static func withInterval(_ r: Double, n: Int) -> Correlation {
        guard n > 3 else { return Correlation(coefficient: r, low: nil, high: nil, n: n) }
        guard abs(r) < 1 else { return Correlation(coefficient: r, low: r, high: r, n: n) }
        let z = atanh(r)
        let margin = z975 / Double(n - 3).squareRoot()
        return Correlation(coefficient: r, low: tanh(z - margin), high: tanh(z + margin), n: n)
    }

    // MARK: Where a branch stands

    /// The four quadrants of business score (across) against party-building score (up).
    public enum Quadrant: String, Sendable, CaseIterable, Codable {
        /// Both high: 融合共进.
        case joined
        /// Business high, party-building low: 重业务轻党建.
        case businessOnly
        /// Party-building high, business low: 党建悬浮.
        case partyOnly
        /// Both low: 双弱.
        case bothLow
    }

    /// The quadrant of a branch; a score on a line counts as high.
    public static func quadrant(business: Double, party: Double, businessLine: Double, partyLine: Double) -> Quadrant {
        switch (business >= businessLine, party >= partyLine) {
        case (true, true): .joined
        case (true, false): .businessOnly
        case (false, true): .partyOnly
        case (false, false): .bothLow
        }
    }

    /// The median (the mean of the middle two for an even count); `nil` without values.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    /// A branch's party-building rank minus its business rank (competition ranks, 1 the best):
    /// above zero, it ranks lower in party building than in its business. Flagged when the gap
    /// is at least a third of the branches ranked.
    public struct RankGap: Sendable, Equatable {
        public let partyRank: Int
        public let businessRank: Int
        public let gap: Int
        public let flagged: Bool
    }

    /// The rank gap of every branch, in the order given.
    public static func rankGaps(business: [Double], party: [Double]) -> [RankGap] {
        precondition(business.count == party.count, "pairs")
        let businessRanks = competitionRanks(business)
        let partyRanks = competitionRanks(party)
        let threshold = Double(business.count) / 3
        return zip(partyRanks, businessRanks).map { partyRank, businessRank in
            let gap = partyRank - businessRank
            return RankGap(partyRank: partyRank, businessRank: businessRank, gap: gap, flagged: Double(abs(gap)) >= threshold)
        }
    }

    /// Where one branch stands among the branches that have both scores.
    public struct Standing: Sendable, Equatable {
        public let quadrant: Quadrant
        public let rank: RankGap
    }

    /// The branches that have both a business and a party-building score: the quadrant lines
    /// (the medians) and where each branch stands, by branch code.
    public struct Standings: Sendable, Equatable {
        public let businessLine: Double
        public let partyLine: Double
        public let byCode: [String: Standing]
    }

    /// The standings of the branches with both scores; `nil` with fewer than two such branches.
    /// The quadrant lines are the medians unless the round sets them (`lines`).
    public static func standings(
        business: [String: Double],
        party: [String: Double],
        lines: (business: Double?, party: Double?) = (nil, nil)
    ) -> Standings? {
        let codes = party.keys.filter { business[$0] != nil }.sorted()
        guard codes.count >= 2 else { return nil }
        let businessScores = codes.map { business[$0]! }
        let partyScores = codes.map { party[$0]! }
        let businessLine = lines.business ?? median(businessScores)!
        let partyLine = lines.party ?? median(partyScores)!
        let gaps = rankGaps(business: businessScores, party: partyScores)
        var byCode: [String: Standing] = [:]
        for (index, code) in codes.enumerated() {
            let placed = quadrant(business: businessScores[index], party: partyScores[index], businessLine: businessLine, partyLine: partyLine)
            byCode[code] = Standing(quadrant: placed, rank: gaps[index])
        }
        return Standings(businessLine: businessLine, partyLine: partyLine, byCode: byCode)
    }
}
