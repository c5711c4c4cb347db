import KaopingAggregation

public enum RoundError: Error, Equatable, CustomStringConvertible {
    case notFound
    case invalid([RoundConfiguration.Problem])
    case wrongStatus(current: RoundStatus, action: RoundAction)
    case unknownBranches([String])
    case noBranches
    case formNotAvailable(String)
    case reasonRequired
    case noClosingTime

    public var description: String {
        switch self {
        case .notFound: "no such round"
        case .invalid(let problems): problems.map(\.english).joined(separator: "; ")
        case .wrongStatus(let current, let action): "a round that is \(current.rawValue) cannot be \(action.rawValue)"
        case .unknownBranches(let codes): "no branch has the code \(codes.map { "'\($0)'" }.joined(separator: ", "))"
        case .noBranches: "the round has no branches: import branches first"
        case .formNotAvailable(let form): "the form '\(form)' is not loaded from the forms directory, or is the wrong kind for its group"
        case .reasonRequired: "reopening a closed round needs a reason"
        case .noClosingTime: "the round has no closing time, so it would never close by itself: set one (extend) before opening it"
        }
    }

    static let chineseStatus: [RoundStatus: String] = [.draft: "草稿状态", .scheduled: "已排期", .open: "进行中", .closed: "已结束"]
    static let chineseAction: [RoundAction: String] = [.opened: "开始", .closed: "结束", .extended: "延期", .reopened: "重新开放"]

    /// The same in the administrator's language.
    public func message(english: Bool) -> String {
        if english { return description }
        return switch self {
        case .notFound: "没有这个轮次"
        case .invalid(let problems): problems.map(\.chinese).joined(separator: "；")
        case .wrongStatus(let current, let action):
            "\(Self.chineseStatus[current] ?? current.rawValue)的轮次不能\(Self.chineseAction[action] ?? action.rawValue)"
        case .unknownBranches(let codes): "没有编码为\(codes.map { "“\($0)”" }.joined(separator: "、"))的支部"
        case .noBranches: "这个轮次没有参评支部：请先导入支部"
        case .formNotAvailable(let form): "表单“\(form)”未从表单目录加载，或与评价主体的类型不符"
        case .reasonRequired: "重新开放已结束的轮次必须填写原因"
        case .noClosingTime: "这个轮次没有截止时间，开始后不会自动结束：请先设定截止时间（延期）再开始"
        }
    }
}
