import Foundation
import KaopingForms
import Testing

@testable import KaopingServer

/// A ballot carries every kind of answer the forms have through sealing and back, and ballots
/// sealed by earlier builds still open.
@Suite("Sealed ballots read back")
struct SealedBallotTests {
    static let survey = """
        id: ballot-survey
        version: 1
        kind: survey
        title: {zh-Hans: 测评}
        satisfaction: overall
        dimensions:
          - {key: service, label: {zh-Hans: 服务}}
          - {key: style, label: {zh-Hans: 作风}}
        scales:
          - key: satisfaction
            options:
              - {key: satisfied, label: {zh-Hans: 满意}, points: 100, satisfied: true}
              - {key: fairly, label: {zh-Hans: 基本满意}, points: 75, satisfied: true}
              - {key: dissatisfied, label: {zh-Hans: 不满意}, points: 55}
              - {key: unknown, label: {zh-Hans: 不了解}, unscored: true}
        sections:
          - key: main
            title: {zh-Hans: 主要}
            items:
              - {key: attitude, type: rating, scale: satisfaction, dimension: service, label: {zh-Hans: 态度}}
              - {key: speed, type: rating, scale: satisfaction, dimension: service, weight: 2, label: {zh-Hans: 效率}}
              - {key: integrity, type: rating, scale: satisfaction, dimension: style, required: false, label: {zh-Hans: 廉洁}}
              - key: contact
                type: choice
                required: false
                label: {zh-Hans: 接触方式}
                options:
                  - {key: work, label: {zh-Hans: 日常工作}, unscored: true}
                  - {key: events, label: {zh-Hans: 支部活动}, unscored: true}
              - {key: overall, type: rating, scale: satisfaction, label: {zh-Hans: 总体}}
              - {key: name, type: text, label: {zh-Hans: 称呼}}
              - {key: comment, type: long-text, label: {zh-Hans: 意见}}
        """

    static let sheet = """
        id: ballot-sheet
        version: 1
        kind: sheet
        title: {zh-Hans: 考评表}
        sections:
          - key: main
            title: {zh-Hans: 项目}
            items:
              - {key: org_life, type: deduction, max: 60, label: {zh-Hans: 组织生活}}
              - {key: study, type: deduction, max: 40, label: {zh-Hans: 学习}}
              - {key: dues, type: baseline, label: {zh-Hans: 党费}}
              - {key: no_violations, type: baseline, label: {zh-Hans: 纪律}}
              - {key: awards, type: bonus, cap: 4, label: {zh-Hans: 表彰}}
              - {key: remark, type: long-text, label: {zh-Hans: 评价}}
        """

    static func record(_ yaml: String, _ answers: [String: Answer]) throws -> SubmissionRecord {
        let form = try FormLoader.parse(yaml: yaml, file: "ballot.yaml")
        let id = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!
        let target = RespondentTarget(
            roundID: id,
            roundTitle: "",
            roundOpen: true,
            group: .public,
            branchID: id,
            branchName: "",
            formVersionID: id
        )
        return SubmissionRecord(target: target, submissionKey: "", answers: answers, score: form.score(answers), form: form)
    }

    /// The form's answers as the ballot gives them back, read by each item's type.
    static func answers(_ ballot: BallotContent, _ form: FormDefinition) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        for answer in ballot.answers {
            guard let item = form.item(answer.item) else { continue }
            switch item.type {
            case .rating, .choice: answers[item.key] = answer.option.map(Answer.option)
            case .text, .longText: answers[item.key] = answer.text.map(Answer.text)
            case .deduction, .bonus: answers[item.key] = answer.number.map { .points($0, note: answer.text ?? "") }
            case .baseline: answers[item.key] = answer.option.map { .baseline(passed: $0 == "pass", note: answer.text ?? "") }
            }
        }
        return answers
    }

    /// Every kind of answer (a scored and an unscored option, a choice, short and long text,
    /// points lost and earned with and without a note, a baseline passed and failed) goes in and
    /// comes out as it was, with the score, dimensions and satisfaction.
    @Test(arguments: [
        (
            survey,
            [
                "attitude": Answer.option("fairly"), "speed": .option("dissatisfied"), "integrity": .option("unknown"),
                "contact": .option("events"), "overall": .option("satisfied"), "name": .text("王 \u{1F600}"),
                "comment": .text("学习与业务结合得好，\"引号\"\\反斜杠\n换行\t\u{0}"),
            ]
        ),
        (survey, ["overall": .option("dissatisfied"), "comment": .text("")]),
        (survey, [:]),
        (
            sheet,
            [
                "org_life": .points(12.25, note: "少开两次支委会"), "study": .points(0, note: ""), "dues": .baseline(passed: true, note: ""),
                "no_violations": .baseline(passed: false, note: "一名党员受到处分"), "awards": .points(3.5, note: "市级表彰"),
                "remark": .text("全年工作扎实。"),
            ]
        ),
    ])
    func everyKindOfAnswerReadsBack(yaml: String, answers: [String: Answer]) throws {
        let record = try Self.record(yaml, answers)
        let ballot = BallotContent(record)
        let read = try BallotContent(decoding: ballot.encoded())
        #expect(read == ballot)
        #expect(Self.answers(read, record.form) == answers)
        #expect(read.answers.map(\.item) == record.form.items.map(\.key).filter { answers[$0] != nil })
        #expect(read.score == record.score.score && read.satisfied == record.score.satisfied)
        #expect(read.straightLined == record.score.straightLined)
        #expect(Dictionary(uniqueKeysWithValues: read.dimensions.map { ($0.key, $0.value) }) == record.score.dimensionScores)
        #expect(read.answers.filter { $0.points != nil }.count == record.score.itemPoints.count)
        for answer in read.answers where answer.points != nil { #expect(answer.points == record.score.itemPoints[answer.item]) }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    /// Ballots sealed by the build before ballots were read into Decodable types, from two small
    /// records: they open to what was put in, and the same records still seal to these bytes.
    @Test func ballotsSealedByAnEarlierBuildStillOpen() throws {
        let survey = Self.bytes(
            "01010000000000e0554000010100000007000000736572766963650000000000c05240030000000800000061747469747564650106000000666169726c79"
                + "0000010000000000c05240070000006f766572616c6c0109000000736174697366696564000001000000000000594007000000636f6d6d656e740000"
                + "0109000000e5a5bd0a22e698af2200"
        )
        let surveyBallot = BallotContent(
            score: 87.5,
            dimensions: [.init(key: "service", value: 75)],
            straightLined: false,
            satisfied: true,
            answers: [
                .init(item: "attitude", option: "fairly", points: 75), .init(item: "overall", option: "satisfied", points: 100),
                .init(item: "comment", text: "好\n\"是\""),
            ]
        )
        #expect(try BallotContent(decoding: survey) == surveyBallot)
        let surveyRecord = try Self.record(
            Self.survey,
            ["attitude": .option("fairly"), "overall": .option("satisfied"), "comment": .text("好\n\"是\"")]
        )
        #expect(BallotContent(surveyRecord).encoded() == survey)

        let sheet = Self.bytes(
            "01000002000000000300000005000000737475647900010000000000000440010c000000e5b091e5ada6e4b880e6aca100040000006475657301040000"
                + "006661696c0000000d0000006e6f5f76696f6c6174696f6e73010400000070617373000103000000e697a000"
        )
        let sheetBallot = BallotContent(
            score: nil,
            dimensions: [],
            straightLined: false,
            satisfied: nil,
            answers: [
                .init(item: "study", number: 2.5, text: "少学一次"), .init(item: "dues", option: "fail"),
                .init(item: "no_violations", option: "pass", text: "无"),
            ]
        )
        #expect(try BallotContent(decoding: sheet) == sheetBallot)
        let sheetRecord = try Self.record(
            Self.sheet,
            ["study": .points(2.5, note: "少学一次"), "dues": .baseline(passed: false, note: ""), "no_violations": .baseline(passed: true, note: "无")]
        )
        #expect(BallotContent(sheetRecord).encoded() == sheet)
    }

    /// Ballots sealed as JSON by earlier builds (compact, as their writer put them) and plaintext
    /// ballots from before sealing (as the database prints jsonb: spaced, keys reordered, nulls
    /// written out) open to the same content; a waiting row with neither opens empty.
    @Test func ballotsWrittenAsJSONStillOpen() throws {
        let expected = BallotContent(
            score: 87.5,
            dimensions: [.init(key: "service", value: 75), .init(key: "style", value: 100)],
            straightLined: false,
            satisfied: true,
            answers: [
                .init(item: "attitude", option: "fairly", points: 75), .init(item: "contact", option: "work"),
                .init(item: "comment", text: "好\n\"是\" \u{1F600}"), .init(item: "study", number: 2.5, text: "少学一次"),
                .init(item: "dues", option: "fail"),
            ]
        )
        let compact =
            #"{"answers":[{"item_key":"attitude","option_key":"fairly","points":75.0},{"item_key":"contact","option_key":"work"},"#
            + #"{"item_key":"comment","text_value":"好\n\"是\" \ud83d\ude00"},{"item_key":"study","number_value":2.5,"text_value":"少学一次"},"#
            + #"{"item_key":"dues","option_key":"fail"}],"score":87.5,"dimensions":{"style":100.0,"service":75.0},"#
            + #""straightLined":false,"satisfied":true}"#
        #expect(try BallotContent(decoding: Array(compact.utf8)) == expected)
        #expect(try BallotContent(json: Array(compact.utf8)) == expected)
        let jsonb =
            #"{"score": 87.5, "answers": [{"points": 75.0, "item_key": "attitude", "option_key": "fairly"}, "#
            + #"{"item_key": "contact", "option_key": "work"}, {"item_key": "comment", "text_value": "好\n\"是\" 😀"}, "#
            + #"{"item_key": "study", "text_value": "少学一次", "number_value": 2.5}, {"item_key": "dues", "option_key": "fail"}], "#
            + #""satisfied": true, "dimensions": {"style": 100, "service": 75.0}, "straightLined": false}"#
        #expect(try BallotContent(json: Array(jsonb.utf8)) == expected)

        let unscored =
            #"{"answers": [{"item_key": "overall", "option_key": "unknown"}], "score": null, "dimensions": {}, "#
            + #""straightLined": true, "satisfied": null}"#
        #expect(
            try BallotContent(json: Array(unscored.utf8))
                == BallotContent(
                    score: nil,
                    dimensions: [],
                    straightLined: true,
                    satisfied: nil,
                    answers: [.init(item: "overall", option: "unknown")]
                )
        )
        #expect(
            try BallotContent(json: Array("{}".utf8)) == BallotContent(score: nil, dimensions: [], straightLined: false, satisfied: nil, answers: [])
        )
        // Not what any version wrote: refused rather than read as an empty or partial ballot.
        #expect(throws: BallotContentError.self) { try BallotContent(json: Array("[]".utf8)) }
        #expect(throws: BallotContentError.self) { try BallotContent(json: Array(#"{"answers": [{"option_key": "4"}]}"#.utf8)) }
        #expect(throws: BallotContentError.self) { try BallotContent(json: Array(#"{"score": "87.5"}"#.utf8)) }
        #expect(throws: BallotContentError.self) { try BallotContent(decoding: Array(#"{"answers": [{"item_key": "a""#.utf8)) }
    }
}
