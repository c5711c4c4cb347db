/// Text in the interface languages. Chinese (zh-Hans) is required; English is optional and
/// falls back to Chinese.
public struct LocalizedText: Codable, Sendable, Hashable {
    public var zh: String
    public var en: String?

    public init(zh: String, en: String? = nil) {
        self.zh = zh
        self.en = en
    }

    public func text(english: Bool) -> String {
        english ? (en ?? zh) : zh
    }
}

/// A survey is answered by members or the public; a sheet is filled by organisation evaluators.
public enum FormKind: String, Codable, Sendable, CaseIterable {
    case survey
    case sheet
}

public enum ItemType: String, Codable, Sendable, CaseIterable {
    /// One option of a named scale.
    case rating
    /// One option of options listed on the item itself.
    case choice
    /// A short free-text answer.
    case text
    /// A long free-text answer (comments, remarks).
    case longText = "long-text"
    /// Score sheet: points lost out of a maximum, with a note.
    case deduction
    /// Score sheet: pass or fail (底线); a fail triggers the veto.
    case baseline
    /// Score sheet: bonus points earned, capped per item (高线倡导).
    case bonus

    public var isScoreSheetItem: Bool { self == .deduction || self == .baseline || self == .bonus }
    public var hasOptions: Bool { self == .rating || self == .choice }
    public var isText: Bool { self == .text || self == .longText }
}

/// One answer option and what it is worth.
public struct AnswerOption: Codable, Sendable, Hashable {
    public var key: String
    public var label: LocalizedText
    /// Points on 0–100, or `nil` for an unscored option (不了解, not applicable).
    public var points: Double?
    /// Counts towards the satisfaction rate (满意, 基本满意).
    public var satisfied: Bool

    public init(key: String, label: LocalizedText, points: Double?, satisfied: Bool = false) {
        self.key = key
        self.label = label
        self.points = points
        self.satisfied = satisfied
    }
}

public struct Scale: Codable, Sendable, Hashable {
    public var key: String
    public var options: [AnswerOption]
}

public struct Dimension: Codable, Sendable, Hashable {
    public var key: String
    public var label: LocalizedText
}

public struct FormItem: Codable, Sendable, Hashable {
    public var key: String
    public var type: ItemType
    public var label: LocalizedText
    public var help: LocalizedText?
    public var required: Bool
    public var weight: Double
    public var dimension: String?
    /// The named scale of a rating item (its options are copied into `options` when loaded,
    /// so that a frozen definition needs nothing else).
    public var scale: String?
    public var options: [AnswerOption]
    /// Longest accepted text, in characters, for text items.
    public var maxLength: Int?
    /// Deduction items: the item's maximum. Bonus items: the per-item cap.
    public var maximum: Double?

    public init(
        key: String,
        type: ItemType,
        label: LocalizedText,
        help: LocalizedText? = nil,
        required: Bool = true,
        weight: Double = 1,
        dimension: String? = nil,
        scale: String? = nil,
        options: [AnswerOption] = [],
        maxLength: Int? = nil,
        maximum: Double? = nil
    ) {
        self.key = key
        self.type = type
        self.label = label
        self.help = help
        self.required = required
        self.weight = weight
        self.dimension = dimension
        self.scale = scale
        self.options = options
        self.maxLength = maxLength
        self.maximum = maximum
    }

    /// Rating and choice items with at least one scored option contribute to the score.
    public var isScored: Bool { type.hasOptions && options.contains { $0.points != nil } }

    public func option(_ key: String) -> AnswerOption? { options.first { $0.key == key } }
}

public struct FormSection: Codable, Sendable, Hashable {
    public var key: String
    public var title: LocalizedText
    public var intro: LocalizedText?
    public var dimension: String?
    public var items: [FormItem]
}

/// A whole form as loaded from its file. It is `Codable` so that the exact definition used by
/// a round can be frozen in the database.
public struct FormDefinition: Codable, Sendable, Hashable {
    public var id: String
    public var version: Int
    public var kind: FormKind
    public var title: LocalizedText
    public var intro: LocalizedText?
    /// Shown after a successful submission: what happens next.
    public var thanks: LocalizedText?
    public var dimensions: [Dimension]
    public var scales: [Scale]
    public var sections: [FormSection]
    /// The item whose satisfied options give the satisfaction rate (aggregation spec §2).
    public var satisfactionItem: String?
    /// Score sheets: what the deduction maxima must add up to (usually 100), if anything.
    public var deductionTotal: Double?
    /// The file it came from, for messages; not part of the form's meaning.
    public var sourceFile: String?

    public var items: [FormItem] { sections.flatMap(\.items) }

    public func item(_ key: String) -> FormItem? { items.first { $0.key == key } }

    public func dimension(_ key: String) -> Dimension? { dimensions.first { $0.key == key } }
}
