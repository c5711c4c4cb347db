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
    /// How the round is read with the office's performance results; `nil` for the standard
    /// settings (and left out of the stored configuration, so that older rounds keep their hash).
    public var integration: IntegrationSettings?

    /// The integration settings in force.
    public var integrationSettings: IntegrationSettings { integration ?? .standard }

    public init(
        groups: [RaterGroup: Group] = RoundConfiguration.defaultGroups,
        bands: [Band] = RoundConfiguration.defaultBands,
        vetoGrade: String = "一般",
        bonusCap: Double = 10,
        topGradeQuota: Double? = nil,
        anonymityThreshold: Int = 5,
        missingGroups: MissingGroupRule = .renormalise,
        integration: IntegrationSettings? = nil
    ) {
        self.groups = groups
        self.bands = bands
        self.vetoGrade = vetoGrade
        self.bonusCap = bonusCap
        self.topGradeQuota = topGradeQuota
        self.anonymityThreshold = anonymityThreshold
        self.missingGroups = missingGroups
        self.integration = integration
    }

    public static let defaultGroups: [RaterGroup: Group] = [
        .organisation: Group(form: "organisation-sheet", weight: 0.5, quorum: Quorum(minimum: 1), trimming: .none),
        .members: Group(form: "member-integration", weight: 0.3, quorum: Quorum(minimum: 3, share: 0.5), trimming: Trimming(drop: 1, from: 7)),
        .public: Group(form: "public-satisfaction", weight: 0.2, quorum: Quorum(minimum: 10), trimming: Trimming(drop: 1, from: 7)),
    ]

    public static let defaultBands: [Band] = [
        Band(grade: "优秀", minimum: 90), Band(grade: "良好", minimum: 80), Band(grade: "一般", minimum: 60), Band(grade: "较差", minimum: 0),
    ]

    /// One thing wrong with a configuration, named by a key of the server's text catalogue
    /// with the values for its placeholders: the library holds no interface text, the server
    /// says it in the administrator's language. A `group` value is a rater group's raw name.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let key: String
        public let values: [String: String]

        public init(_ key: String, _ values: [String: String] = [:]) {
            self.key = key
            self.values = values
        }

        public var description: String {
            ([key] + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    /// Every problem with the configuration, in words an administrator can act on. An empty
    /// list means the round can use it.
    public func problems() -> [Problem] {
        var problems: [Problem] = []
        if groups.isEmpty { problems.append(.init("config_no_groups")) }
        let totalWeight = groups.values.reduce(0) { $0 + $1.weight }
        if groups.values.contains(where: { $0.weight < 0 || !$0.weight.isFinite }) {
            problems.append(.init("config_negative_weight"))
        } else if !groups.isEmpty && totalWeight <= 0 {
            problems.append(.init("config_zero_weights"))
        }
        for (group, settings) in groups.sorted(by: { $0.key < $1.key }) {
            let named = ["group": group.rawValue]
            if settings.form.isEmpty { problems.append(.init("config_no_form", named)) }
            if settings.quorum.minimum < 0 { problems.append(.init("config_negative_quorum", named)) }
            if !(0...1).contains(settings.quorum.share) { problems.append(.init("config_quorum_share", named)) }
            if settings.trimming.drop < 0 || settings.trimming.from < 0 {
                problems.append(.init("config_negative_trimming", named))
            } else if settings.trimming.drop > 0 && settings.trimming.from <= 2 * settings.trimming.drop {
                let drop = settings.trimming.drop
                problems.append(.init("config_trimming_too_early", named.merging(["drop": "\(drop)", "needed": "\(2 * drop)"]) { $1 }))
            }
        }
        if bands.isEmpty {
            problems.append(.init("config_no_bands"))
        } else {
            for (higher, lower) in zip(bands, bands.dropFirst()) where !(higher.minimum > lower.minimum) {
                problems.append(
                    .init(
                        "config_bands_order",
                        [
                            "higher": higher.grade, "higher_minimum": "\(higher.minimum)", "lower": lower.grade,
                            "lower_minimum": "\(lower.minimum)",
                        ]
                    )
                )
            }
            if bands.contains(where: { !(0...100).contains($0.minimum) }) { problems.append(.init("config_band_range")) }
            if bands.last?.minimum != 0 { problems.append(.init("config_lowest_band")) }
            if Set(bands.map(\.grade)).count != bands.count { problems.append(.init("config_band_names")) }
            if !bands.contains(where: { $0.grade == vetoGrade }) { problems.append(.init("config_veto_grade", ["grade": vetoGrade])) }
        }
        if !(0...100).contains(bonusCap) { problems.append(.init("config_bonus_cap")) }
        if let quota = topGradeQuota, !(quota > 0 && quota <= 1) { problems.append(.init("config_quota")) }
        if anonymityThreshold < 3 { problems.append(.init("config_anonymity")) }
        problems += integrationSettings.problems()
        return problems
    }
}
