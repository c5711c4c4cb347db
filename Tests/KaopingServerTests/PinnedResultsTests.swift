import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import KaopingServer

/// A generated round of 300 branches put through the server (sealed ballots in the box, the
/// mixer, score sheets, the results) and its results document as the JSON API gives it, kept
/// in `Golden/results-300.json`: any change to what the method makes of the same answers shows
/// as a difference in that file.
///
/// After a deliberate change of the method (a weight, a rule, a field), rewrite the file with
/// `KAOPING_WRITE_GOLDEN=1 swift test --filter PinnedResultsTests` and review its diff (one
/// branch per line).
@Suite("Results pinned to a golden file", .timeLimit(.minutes(3)))
struct PinnedResultsTests {
    static let goldenPath = TestDatabaseServer.repositoryRoot + "/Tests/KaopingServerTests/Golden/results-300.json"
    static let branchCount = 300

    @Test func aGeneratedRoundGivesTheResultsInTheGoldenFileByteForByte() async throws {
        try await TestApp.run { client, harness in
            let round = try await Self.generatedRound(harness)
            let id = round.uuidString.lowercased()
            let (_, token) = try await harness.issueToken("golden")
            func results() async throws -> [UInt8] {
                let response = try await client.execute(
                    uri: "/api/v1/rounds/\(id)/results",
                    method: .get,
                    headers: [.authorization: "Bearer \(token)"],
                    body: nil
                )
                #expect(response.status == .ok)
                return try Self.resultsDocument(Array(response.body.readableBytesView))
            }
            let live = try await results()

            if ProcessInfo.processInfo.environment["KAOPING_WRITE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(
                    atPath: (Self.goldenPath as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true
                )
                try Data(Self.onePerLine(live)).write(to: URL(fileURLWithPath: Self.goldenPath))
            }
            let golden = try #require(FileManager.default.contents(atPath: Self.goldenPath), "no golden file at \(Self.goldenPath)")
            // The file is the document with a line break after each branch, for readable diffs;
            // JSON escapes every line break inside a string, so the raw ones are only those.
            let expected = Array(golden).filter { $0 != UInt8(ascii: "\n") }
            #expect(live.count == expected.count)
            if live != expected {
                let first = zip(live, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(live.count, expected.count)
                let from = max(first - 200, 0)
                Issue.record(
                    """
                    the results differ from the golden file from byte \(first):
                    now:    \(String(decoding: live[from..<min(first + 200, live.count)], as: UTF8.self))
                    golden: \(String(decoding: expected[from..<min(first + 200, expected.count)], as: UTF8.self))
                    """
                )
            }

            // Closing freezes the same results: the stored snapshot gives the same bytes.
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            #expect(try await harness.roundRepository().close(round, actor: .commandLine, logger: logger))
            #expect(try await results() == live)
        }
    }

    /// The `results` member of the API's document, as sent: the document's other members (when
    /// it was computed, the round's id) differ from run to run. `round` is its last member.
    static func resultsDocument(_ body: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: body, as: UTF8.self)
        let start = try #require(text.range(of: #","results":"#))
        let end = try #require(text.range(of: #","round":"#, options: .backwards))
        return Array(text[start.upperBound..<end.lowerBound].utf8)
    }

    /// A line break after each element of the results' top-level members (each branch), and at
    /// the end.
    static func onePerLine(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + json.count / 500)
        var depth = 0
        var inString = false
        var escaped = false
        for byte in json {
            out.append(byte)
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ",") where depth == 2: out.append(UInt8(ascii: "\n"))
            default: break
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    // MARK: The generated round

    /// SplitMix64: the same numbers from the same seed on every machine and toolchain. Values
    /// are drawn with plain integer arithmetic, not the standard library's `random(in:using:)`,
    /// whose way of drawing may change between versions.
    struct Generator {
        var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// 0 ..< n.
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

        mutating func chance(percent: Int) -> Bool { below(100) < percent }
    }

    /// 300 branches under five organisations, 3–12 members each; each branch drawn from a
    /// generator of its own with a quality of 0–100 that its answers lean towards. Members who
    /// answer: 0 to all (some groups below the anonymity threshold of 5, some below quorum);
    /// public: 0–15 (most below the quorum of 10). Now and then a "don't know", a straight-lined
    /// response, a comment. Every 40th branch repeats the one before it, answers and sheets: a
    /// tie. Score sheets: one evaluator, a second on every 10th branch, none on branches 5, 22,
    /// 39 …; points lost in half points by quality; bonus points sometimes past an item's cap;
    /// a failed baseline item (a veto) on branches 7, 30, 53 …. The round keeps the method's
    /// defaults with a top-grade quota of a quarter.
    static func generatedRound(_ harness: TestHarness) async throws -> UUID {
        let database = harness.database
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await database.query(
            """
            INSERT INTO organisations (code, name)
            VALUES ('o1', '第一机关党委'), ('o2', '第二机关党委'), ('o3', '第三机关党委'), ('o4', '第四机关党委'), ('o5', '第五机关党委')
            """
        )
        struct Plan {
            let code: String
            let seed: UInt64
            let members: Int
        }
        var plans: [Plan] = []
        for index in 0..<branchCount {
            // A tie repeats the branch before it from the same seed.
            let seed = UInt64(index % 40 == 39 ? index - 1 : index) &* 7919 &+ 2026
            var generator = Generator(seed: seed)
            plans.append(Plan(code: String(format: "g%03d", index + 1), seed: seed, members: 3 + generator.below(10)))
        }
        try await database.query(
            """
            INSERT INTO branches (code, name, organisation_id)
            SELECT p.code, '第' || p.code || '党支部', (SELECT id FROM organisations WHERE code = 'o' || (p.position % 5 + 1))
            FROM unnest(\(plans.map(\.code))) WITH ORDINALITY AS p(code, position)
            """
        )
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT p.code || '-' || g, '党员', b.id
            FROM unnest(\(plans.map(\.code)), \(plans.map(\.members))) AS p(code, members)
            JOIN branches b ON b.code = p.code, generate_series(1, p.members) g
            """
        )
        let rounds = try harness.roundRepository()
        let round = try await rounds.create(
            RoundSpec(title: "生成的考评", year: 2026, closesAt: .now + 86400, configuration: RoundConfiguration(topGradeQuota: 0.25)),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(round, actor: .commandLine, logger: logger)

        var branchIDs: [String: UUID] = [:]
        for row in try await database.query(
            "SELECT b.code, b.id FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(round)"
        ) {
            let (code, id) = try row.decode((String, UUID).self)
            branchIDs[code] = id
        }
        #expect(branchIDs.count == branchCount)
        let forms = FormRepository(database: database)
        var versions: [String: (UUID, FormDefinition)] = [:]
        for row in try await database.query("SELECT rater_group, form_version_id FROM round_groups WHERE round_id = \(round)") {
            let (group, version) = try row.decode((String, UUID).self)
            versions[group] = (version, try #require(try await forms.definition(id: version)))
        }
        let (memberVersion, memberForm) = try #require(versions["members"])
        let (publicVersion, publicForm) = try #require(versions["public"])
        let (sheetVersion, sheetForm) = try #require(versions["organisation"])

        let first = try await harness.createUser("pingshen", password: "golden sheets one", role: .evaluator)
        let second = try await harness.createUser("fuping", password: "golden sheets two", role: .evaluator)
        let sheets = SheetRepository(database: database)

        var boxBranches: [UUID] = []
        var boxGroups: [String] = []
        var boxVersions: [UUID] = []
        var boxSealed: [ByteBuffer] = []
        for (index, plan) in plans.enumerated() {
            var generator = Generator(seed: plan.seed)
            _ = generator.below(10)  // the member count, drawn above
            let quality = generator.below(101)
            let branch = try #require(branchIDs[plan.code])
            let answering = [("members", generator.below(plan.members + 1)), ("public", generator.below(16))]
            for (group, count) in answering {
                let (version, form) = group == "members" ? (memberVersion, memberForm) : (publicVersion, publicForm)
                let target = RespondentTarget(
                    roundID: round,
                    roundTitle: "生成的考评",
                    roundOpen: true,
                    group: group == "members" ? .members : .public,
                    branchID: branch,
                    branchName: "",
                    formVersionID: version
                )
                for _ in 0..<count {
                    let answers = Self.answers(form, quality: quality, &generator)
                    let record = SubmissionRecord(target: target, submissionKey: "", answers: answers, score: form.score(answers), form: form)
                    boxBranches.append(branch)
                    boxGroups.append(group)
                    boxVersions.append(version)
                    boxSealed.append(ByteBuffer(bytes: try TestApp.ballotSeal.seal(BallotContent(record).encoded(), roundID: round, group: group)))
                }
            }
            // The repeated branch of a tie is written by its own index, so its sheets repeat too.
            let sheetIndex = index % 40 == 39 ? index - 1 : index
            guard sheetIndex % 17 != 5 else { continue }
            var evaluators = [first.id]
            if sheetIndex % 10 == 3 { evaluators.append(second.id) }
            for evaluator in evaluators {
                let answers = Self.sheetAnswers(sheetForm, quality: quality, veto: sheetIndex % 23 == 7, &generator)
                let quiet = logger
                try await database.transaction(logger: quiet) { connection in
                    try await sheets.save(
                        roundID: round,
                        branchID: branch,
                        userID: evaluator,
                        formVersionID: sheetVersion,
                        form: sheetForm,
                        answers: answers,
                        submit: true,
                        on: connection,
                        logger: quiet
                    )
                }
            }
        }
        // Into the box as the respondent pages drop them, then mixed, in one transaction: the
        // server's own mixer would otherwise start on the same ballots.
        let (sealed, branches, groups, formVersions, quiet) = (boxSealed, boxBranches, boxGroups, boxVersions, logger)
        let moved = try await database.transaction(logger: quiet) { connection in
            try await connection.query(
                """
                INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
                SELECT \(round), b.branch_id, b.rater_group, b.form_version_id, current_date, b.sealed
                FROM unnest(\(branches), \(groups), \(formVersions), \(sealed)) AS b(branch_id, rater_group, form_version_id, sealed)
                """,
                logger: quiet
            )
            return try await BallotBox.flush(roundID: round, seal: TestApp.ballotSeal, connection: connection, logger: quiet)
        }
        #expect(moved == boxSealed.count)
        return round
    }

    /// One respondent's answers, leaning towards the branch's quality (0–100).
    static func answers(_ form: FormDefinition, quality: Int, _ generator: inout Generator) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        let straight = generator.chance(percent: 8)
        let straightPosition = generator.below(3)
        for item in form.items where item.isScored {
            let scored = item.options.filter { $0.points != nil }.sorted { ($0.points ?? 0) > ($1.points ?? 0) }
            if straight {
                answers[item.key] = .option(scored[min(straightPosition, scored.count - 1)].key)
                continue
            }
            if let unknown = item.options.first(where: { $0.points == nil }), generator.chance(percent: 5) {
                answers[item.key] = .option(unknown.key)
                continue
            }
            let position = (100 - quality) * scored.count / 101 + generator.below(3) - 1
            answers[item.key] = .option(scored[min(max(position, 0), scored.count - 1)].key)
        }
        for item in form.items where item.type == .longText && generator.chance(percent: 15) {
            answers[item.key] = .text("意见\(generator.below(1000))")
        }
        return answers
    }

    /// An evaluator's sheet: half points lost, more the weaker the branch; bonus points, now
    /// and then past the item's cap.
    static func sheetAnswers(_ form: FormDefinition, quality: Int, veto: Bool, _ generator: inout Generator) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        for item in form.items {
            let maximum = Int(item.maximum ?? 0)
            switch item.type {
            case .deduction:
                let halves = generator.below(maximum * (100 - quality) / 50 + 1)
                answers[item.key] = .points(Double(min(halves, 2 * maximum)) / 2, note: "")
            case .baseline:
                answers[item.key] = .baseline(passed: !(veto && item.key == "dues_collected"), note: "")
            case .bonus:
                answers[item.key] = .points(Double(generator.below(2 * maximum + 3)) / 2, note: "")
            default:
                break
            }
        }
        return answers
    }
}
