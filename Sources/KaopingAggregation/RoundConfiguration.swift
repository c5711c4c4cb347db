/// How a round turns responses into results: everything the scoring method (aggregation
/// spec v1) leaves to the round. Defaults are the spec's.
public struct RoundConfiguration: Codable, Sendable, Equatable {
    public enum RaterGroup: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
        case organisation, members, `public`

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public enum MissingGroupRule: String, Codable, Sendable {
        /// Combine the groups that reached quorum, reweighted.
        case renormalise
        /// A subject with any weighted group below quorum gets no combined score.
        case require
    }

    public struct Quorum: Codable, Sendable, Equatable {
        /// At least this many scored responses.
        public var minimum: Int
        /// And at least this share of the eligible raters (members), 0–1; 0 for none.
        public var share: Double

        public init(minimum: Int, share: Double = 0) {
            self.minimum = minimum
            self.share = share
        }
    }

    public struct Trimming: Codable, Sendable, Equatable {
        /// Drop this many highest and this many lowest scores…
        public var drop: Int
        /// …when there are at least this many.
        public var from: Int

        public init(drop: Int, from: Int) {
            self.drop = drop
            self.from = from
        }

        public static let none = Trimming(drop: 0, from: 0)
    }

    public struct Group: Codable, Sendable, Equatable {
        public var form: String
        public var weight: Double
        public var quorum: Quorum
        public var trimming: Trimming

        public init(form: String, weight: Double, quorum: Quorum, trimming: Trimming) {
            self.form = form
            self.weight = weight
            self.quorum = quorum
            self.trimming = trimming
        }
    }

    public struct Band: Codable, Sendable, Equatable {
        public var grade: String
        /// The lowest combined score that earns this grade; the last band's is 0.
        public var minimum: Double

        public init(grade: String, minimum: Double) {
            self.grade = grade
            self.minimum = minimum
        }
    }

    public var groups: [RaterGroup: Group]
    /// Highest first.
    public var bands: [Band]
    public var vetoGrade: String
    public var bonusCap: Double
    /// Share of graded subjects that may keep the top grade (e.g. 1/3); `nil` for no quota.
    public var topGradeQuota: Double?
    public var anonymityThreshold: Int
    public var missingGroups: MissingGroupRule

    public init(
        groups: [RaterGroup: Group] = RoundConfiguration.defaultGroups,
        bands: [Band] = RoundConfiguration.defaultBands,
        vetoGrade: String = "一般",
        bonusCap: Double = 10,
        topGradeQuota: Double? = nil,
        anonymityThreshold: Int = 5,
        missingGroups: MissingGroupRule = .renormalise
    ) {
        self.groups = groups
        self.bands = bands
        self.vetoGrade = vetoGrade
        self.bonusCap = bonusCap
        self.topGradeQuota = topGradeQuota
        self.anonymityThreshold = anonymityThreshold
        self.missingGroups = missingGroups
    }

    public static let defaultGroups: [RaterGroup: Group] = [
        .organisation: Group(form: "organisation-sheet", weight: 0.5, quorum: Quorum(minimum: 1), trimming: .none),
        .members: Group(form: "member-integration", weight: 0.3, quorum: Quorum(minimum: 3, share: 0.5), trimming: Trimming(drop: 1, from: 7)),
        .public: Group(form: "public-satisfaction", weight: 0.2, quorum: Quorum(minimum: 10), trimming: Trimming(drop: 1, from: 7)),
    ]

    public static let defaultBands: [Band] = [
        Band(grade: "优秀", minimum: 90), Band(grade: "良好", minimum: 80), Band(grade: "一般", minimum: 60), Band(grade: "较差", minimum: 0),
    ]

    /// Every problem with the configuration, in words an administrator can act on. An empty
    /// list means the round can use it.
    public func problems() -> [String] {
        var problems: [String] = []
        if groups.isEmpty { problems.append("a round needs at least one rater group") }
        let totalWeight = groups.values.reduce(0) { $0 + $1.weight }
        if groups.values.contains(where: { $0.weight < 0 || !$0.weight.isFinite }) {
            problems.append("group weights must be 0 or more")
        } else if !groups.isEmpty && totalWeight <= 0 {
            problems.append("the group weights add up to zero: at least one group must count")
        }
        for (group, settings) in groups.sorted(by: { $0.key < $1.key }) {
            if settings.form.isEmpty { problems.append("\(group.rawValue): no form chosen") }
            if settings.quorum.minimum < 0 { problems.append("\(group.rawValue): the quorum cannot be negative") }
            if !(0...1).contains(settings.quorum.share) { problems.append("\(group.rawValue): the quorum share must be between 0 and 1") }
            if settings.trimming.drop < 0 || settings.trimming.from < 0 {
                problems.append("\(group.rawValue): trimming cannot be negative")
            } else if settings.trimming.drop > 0 && settings.trimming.from <= 2 * settings.trimming.drop {
                problems.append("\(group.rawValue): trimming \(settings.trimming.drop) from each end needs more than \(2 * settings.trimming.drop) responses to leave any")
            }
        }
        if bands.isEmpty {
            problems.append("at least one grade band is needed")
        } else {
            for (higher, lower) in zip(bands, bands.dropFirst()) where !(higher.minimum > lower.minimum) {
                problems.append("grade bands must go from highest to lowest: \(higher.grade) (\(higher.minimum)) is not above \(lower.grade) (\(lower.minimum))")
            }
            if bands.contains(where: { !(0...100).contains($0.minimum) }) { problems.append("grade band minimums must be between 0 and 100") }
            if bands.last?.minimum != 0 { problems.append("the lowest grade band must start at 0 so that every score gets a grade") }
            if Set(bands.map(\.grade)).count != bands.count { problems.append("each grade band needs its own name") }
            if !bands.contains(where: { $0.grade == vetoGrade }) {
                problems.append("the veto grade '\(vetoGrade)' is not one of the grade bands")
            }
        }
        if !(0...100).contains(bonusCap) { problems.append("the bonus cap must be between 0 and 100") }
        if let quota = topGradeQuota, !(quota > 0 && quota <= 1) { problems.append("the top-grade quota must be a share above 0 and at most 1") }
        if anonymityThreshold < 3 { problems.append("the anonymity threshold cannot be below 3, or single raters could be identified") }
        return problems
    }
}
