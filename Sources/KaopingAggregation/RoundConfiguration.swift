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

    /// One thing wrong with a configuration, said in both interface languages.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let english: String
        public let chinese: String

        public init(_ english: String, _ chinese: String) {
            self.english = english
            self.chinese = chinese
        }

        public var description: String { english }

        public func text(english useEnglish: Bool) -> String { useEnglish ? english : chinese }
    }

    /// Every problem with the configuration, in words an administrator can act on. An empty
    /// list means the round can use it.
    public func problems() -> [Problem] {
        var problems: [Problem] = []
        if groups.isEmpty { problems.append(.init("a round needs at least one rater group", "至少需要一个评价主体")) }
        let totalWeight = groups.values.reduce(0) { $0 + $1.weight }
        if groups.values.contains(where: { $0.weight < 0 || !$0.weight.isFinite }) {
            problems.append(.init("group weights must be 0 or more", "各评价主体的权重不能为负数"))
        } else if !groups.isEmpty && totalWeight <= 0 {
            problems.append(.init("the group weights add up to zero: at least one group must count", "各评价主体的权重之和为零：至少要有一个主体计入得分"))
        }
        for (group, settings) in groups.sorted(by: { $0.key < $1.key }) {
            let name = group.rawValue
            let chinese = group.chineseName
            if settings.form.isEmpty { problems.append(.init("\(name): no form chosen", "\(chinese)：未选择表单")) }
            if settings.quorum.minimum < 0 { problems.append(.init("\(name): the quorum cannot be negative", "\(chinese)：最低有效份数不能为负数")) }
            if !(0...1).contains(settings.quorum.share) {
                problems.append(.init("\(name): the quorum share must be between 0 and 1", "\(chinese)：最低参评比例必须在 0 到 1 之间"))
            }
            if settings.trimming.drop < 0 || settings.trimming.from < 0 {
                problems.append(.init("\(name): trimming cannot be negative", "\(chinese)：去掉的份数不能为负数"))
            } else if settings.trimming.drop > 0 && settings.trimming.from <= 2 * settings.trimming.drop {
                let drop = settings.trimming.drop
                problems.append(
                    .init(
                        "\(name): trimming \(drop) from each end needs more than \(2 * drop) responses to leave any",
                        "\(chinese)：两端各去掉 \(drop) 份，起始份数必须大于 \(2 * drop)，否则不剩有效份数"
                    )
                )
            }
        }
        if bands.isEmpty {
            problems.append(.init("at least one grade band is needed", "至少需要一个等次"))
        } else {
            for (higher, lower) in zip(bands, bands.dropFirst()) where !(higher.minimum > lower.minimum) {
                problems.append(
                    .init(
                        "grade bands must go from highest to lowest: \(higher.grade) (\(higher.minimum)) is not above \(lower.grade) (\(lower.minimum))",
                        "等次必须从高到低排列：\(higher.grade)（\(higher.minimum)）不高于\(lower.grade)（\(lower.minimum)）"
                    )
                )
            }
            if bands.contains(where: { !(0...100).contains($0.minimum) }) {
                problems.append(.init("grade band minimums must be between 0 and 100", "等次的最低分必须在 0 到 100 之间"))
            }
            if bands.last?.minimum != 0 {
                problems.append(.init("the lowest grade band must start at 0 so that every score gets a grade", "最低一档等次必须从 0 分起，才能让每个分数都有等次"))
            }
            if Set(bands.map(\.grade)).count != bands.count { problems.append(.init("each grade band needs its own name", "等次名称不能重复")) }
            if !bands.contains(where: { $0.grade == vetoGrade }) {
                problems.append(.init("the veto grade '\(vetoGrade)' is not one of the grade bands", "否决后等次“\(vetoGrade)”不在等次之中"))
            }
        }
        if !(0...100).contains(bonusCap) { problems.append(.init("the bonus cap must be between 0 and 100", "加分上限必须在 0 到 100 之间")) }
        if let quota = topGradeQuota, !(quota > 0 && quota <= 1) {
            problems.append(.init("the top-grade quota must be a share above 0 and at most 1", "最高等次比例必须大于 0 且不超过 1"))
        }
        if anonymityThreshold < 3 {
            problems.append(.init("the anonymity threshold cannot be below 3, or single raters could be identified", "匿名阈值不能小于 3，否则可能识别出个人"))
        }
        return problems
    }
}

extension RoundConfiguration.RaterGroup {
    /// The group's name as the offices say it.
    public var chineseName: String {
        switch self {
        case .organisation: "组织评价"
        case .members: "党员评价"
        case .public: "群众评价"
        }
    }
}
