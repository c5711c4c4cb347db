/// A branch's record over the years (年度定量 + 长期定性, `docs/integration.md`): its closed
/// rounds one year after another, the change from the year before, the trend of the last three
/// years, and the lists the committee reads for rectification and commendation. Pure
/// arithmetic; the server reads the years from the rounds' frozen results.
public enum BranchRecord {
    /// One closed round the branch took part in.
    public struct Year: Sendable, Equatable, Codable {
        public var year: Int
        public var roundTitle: String
        public var combined: Double?
        public var grade: String?
        /// 1 the best; `nil` without a combined score.
        public var rank: Int?
        /// How many branches were ranked that year.
        public var ranked: Int
        /// Whether the branch had no combined score (no group, or a required one, reached quorum).
        public var belowQuorum: Bool
        /// By rater group name.
        public var groups: [String: Double]
        /// The member form's dimension scores, where the breakdown was shown.
        public var dimensions: [String: Double]
        public var businessScore: Double?
        /// The checksum of the member form answered that year: a change marks a form that changed.
        public var memberForm: String?

        public init(
            year: Int,
            roundTitle: String,
            combined: Double?,
            grade: String?,
            rank: Int?,
            ranked: Int,
            belowQuorum: Bool,
            groups: [String: Double],
            dimensions: [String: Double],
            businessScore: Double?,
            memberForm: String?
        ) {
            self.year = year
            self.roundTitle = roundTitle
            self.combined = combined
            self.grade = grade
            self.rank = rank
            self.ranked = ranked
            self.belowQuorum = belowQuorum
            self.groups = groups
            self.dimensions = dimensions
            self.businessScore = businessScore
            self.memberForm = memberForm
        }

        /// The rank as a share of the branches ranked that year, 0 the top (rank 1 of 40 is
        /// 0.025): comparable across years with different numbers of branches.
        public var rankShare: Double? {
            guard let rank, ranked > 0 else { return nil }
            return Double(rank) / Double(ranked)
        }
    }

    public enum Trend: String, Sendable, Equatable, Codable {
        case rising, steady, falling
    }

    /// Points a year that count as a movement rather than noise.
    public static let trendThreshold = 1.0

    /// The change of the combined score from the year before (the previous closed round with a
    /// score), for each year in order; `nil` for the first or where either year has no score.
    public static func changes(_ years: [Year]) -> [Double?] {
        years.indices.map { index in
            guard index > 0, let now = years[index].combined, let before = years[index - 1].combined else { return nil }
            return now - before
        }
    }

    /// The least-squares slope of the combined score over the last three years that have one
    /// (points per year, so a missing year in between counts as the gap it is); `rising` or
    /// `falling` beyond `trendThreshold`, else `steady`. `nil` with fewer than three scores.
    public static func trend(_ years: [Year]) -> (trend: Trend, slope: Double)? {
        let scored = years.compactMap { year in year.combined.map { (Double(year.year), $0) } }.suffix(3)
        guard scored.count == 3 else { return nil }
        let meanX = scored.reduce(0) { $0 + $1.0 } / 3
        let meanY = scored.reduce(0) { $0 + $1.1 } / 3
        let spread = scored.reduce(0) { $0 + ($1.0 - meanX) * ($1.0 - meanX) }
        guard spread > 0 else { return nil }
        let slope = scored.reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) } / spread
        let trend: Trend = slope > trendThreshold ? .rising : slope < -trendThreshold ? .falling : .steady
        return (trend, slope)
    }

    /// Why a branch is on one of the committee's lists.
    public enum Watch: String, Sendable, Equatable, Codable {
        /// The lowest grade, or below quorum, in each of the last two closed years: a candidate
        /// for rectification (整顿).
        case rectification
        /// The top grade in each of the last three closed years: a candidate for commendation.
        case commendation
    }

    /// Which list the branch belongs on, from its years in order, given the grades highest first.
    /// Only consecutive closed rounds count: a year the branch was not evaluated breaks the run.
    public static func watch(_ years: [Year], grades: [String]) -> Watch? {
        guard let top = grades.first, let lowest = grades.last else { return nil }
        func consecutive(_ run: ArraySlice<Year>) -> Bool {
            zip(run, run.dropFirst()).allSatisfy { $1.year == $0.year + 1 }
        }
        let lastTwo = years.suffix(2)
        if lastTwo.count == 2, consecutive(lastTwo), lastTwo.allSatisfy({ $0.belowQuorum || $0.grade == lowest }) {
            return .rectification
        }
        let lastThree = years.suffix(3)
        if lastThree.count == 3, consecutive(lastThree), lastThree.allSatisfy({ $0.grade == top }) {
            return .commendation
        }
        return nil
    }
}
