import Foundation
import KaopingAggregation
import KaopingCommands
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import KaopingServer

#if canImport(Glibc)
import Glibc
#endif

/// The `kaoping` program as an operator runs it, against a real database: every command of the
/// README's table, with its output or its effect checked.
@Suite("Command line", .timeLimit(.minutes(3)))
struct CommandLineTests {
    struct Outcome {
        let status: Int32
        let out: String
        let err: String
        let bytes: [UInt8]

        func expecting(_ expected: Int32, _ arguments: [String], _ sourceLocation: SourceLocation) -> Outcome {
            #expect(status == expected, "kaoping \(arguments.joined(separator: " ")): \(err)", sourceLocation: sourceLocation)
            return self
        }
    }

    /// The `kaoping` program with the test database and a secret of its own. `run` runs a
    /// command line in this process, on a console of its own (so that tests run side by side);
    /// `spawn` runs the built program (beside the test bundle), for what only a process shows:
    /// its exit status as the shell sees it.
    struct Program {
        let url: DatabaseURL
        let directory: String

        static var binary: String {
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("kaoping").path
        }

        func environment(_ extra: [String: String]) -> [String: String] {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAOPING_") }
            environment["KAOPING_DATABASE_URL"] = "postgres://\(url.username):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)"
            environment["KAOPING_SECRET_FILE"] = directory + "/secret"
            environment["KAOPING_LOG_LEVEL"] = "error"
            environment.merge(extra) { $1 }
            return environment
        }

        @discardableResult
        func run(
            _ arguments: [String],
            input: String? = nil,
            expect expected: Int32 = 0,
            environment extra: [String: String] = [:],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> Outcome {
            let output = Mutex<[UInt8]>([])
            let errors = Mutex<[UInt8]>([])
            let console = Console(
                environment: environment(extra),
                readInput: { Data((input ?? "").utf8) },
                inputIsTerminal: false,
                writeOutput: { data in output.withLock { $0 += data } },
                writeError: { data in errors.withLock { $0 += data } }
            )
            let status = await Console.$current.withValue(console) { await Kaoping.run(arguments) }
            return outcome(status: status, bytes: output.withLock { $0 }, errors: String(decoding: errors.withLock { $0 }, as: UTF8.self))
                .expecting(expected, arguments, sourceLocation)
        }

        @discardableResult
        func spawn(
            _ arguments: [String],
            input: String? = nil,
            expect expected: Int32 = 0,
            environment extra: [String: String] = [:],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> Outcome {
            let program = try await ChildProgram.start(
                Self.binary,
                arguments,
                environment: environment(extra),
                workingDirectory: directory,
                input: input,
                outputDirectory: directory
            )
            let status = await program.exitStatus()
            return outcome(status: status, bytes: program.output, errors: program.errors).expecting(expected, arguments, sourceLocation)
        }

        private func outcome(status: Int32, bytes: [UInt8], errors: String) -> Outcome {
            // As a text editor shows it: without the byte-order mark the CSV downloads start with.
            let text = String(decoding: bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...], as: UTF8.self)
            return Outcome(status: status, out: text, err: errors, bytes: bytes)
        }

        /// The rows of a query whose columns are all text, as the program left the database.
        func query(_ sql: String) async throws -> [[String]] {
            let database = Database(url: url, poolSize: 1, registry: .init(), logger: Logger(label: "cli-test"))
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.client.run() }
                defer { group.cancelAll() }
                return try await database.query(PostgresQuery(unsafeSQL: sql)).map { row in
                    try row.makeRandomAccess().map { try $0.decode(String.self) }
                }
            }
        }

        /// Answers from members, as the mixer would have moved them into the responses.
        func addResponses(round: String, perBranch: Int, score: String) async throws {
            let database = Database(url: url, poolSize: 2, registry: .init(), logger: Logger(label: "cli-test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.client.run() }
                defer { group.cancelAll() }
                try await database.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, score, submitted_on)
                            SELECT r.round_id, r.branch_id, 'members', g.form_version_id, \(score), current_date
                            FROM round_branches r JOIN round_groups g ON g.round_id = r.round_id AND g.rater_group = 'members',
                                 generate_series(1, \(perBranch)) n
                            WHERE r.round_id = '\(UUID(uuidString: round)!.uuidString.lowercased())'
                            """
                    )
                )
            }
        }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    static func withProgram(_ body: (Program) async throws -> Void) async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        let directory = NSTemporaryDirectory() + "kaoping-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try await body(Program(url: url, directory: directory))
        } catch {
            await TestDatabaseServer.shared.drop(url)
            throw error
        }
        await TestDatabaseServer.shared.drop(url)
    }

    /// The year as an operator's shell runs it: every command as the built program.
    @Test func anOfficesYearFromTheCommandLine() async throws {
        try await Self.withProgram { kaoping in
            #expect(try await kaoping.spawn(["migrate"]).out.contains("database is up to date: 27 migration(s) applied"))

            // Accounts.
            let admin = try await kaoping.spawn(["user", "add", "--username", "admin", "--role", "admin", "--generate-password"])
            #expect(admin.out.contains("created admin account 'admin'"))
            #expect(admin.out.contains("password: "))
            // Every password someone else has seen must be changed at first sign-in; only the
            // holder's own, said so, is kept.
            let evaluator = try await kaoping.spawn(
                ["user", "add", "--username", "pingshen", "--role", "evaluator"],
                input: "a long evaluator secret\n"
            )
            #expect(evaluator.out.contains("created evaluator account"))
            _ = try await kaoping.spawn(
                ["user", "add", "--username", "own", "--role", "admin", "--own-password"],
                input: "the holder's own secret\n"
            )
            #expect(
                try await kaoping.spawn(["user", "add", "--username", "yang", "--role", "admin", "--generate-password", "--own-password"], expect: 2)
                    .err
                    .contains("not both")
            )
            let changes = try await kaoping.query("SELECT username, must_change_password::text FROM users ORDER BY username")
            #expect(changes == [["admin", "true"], ["own", "false"], ["pingshen", "true"]])
            #expect(
                try await kaoping.spawn(["user", "add", "--username", "x", "--role", "king", "--generate-password"], expect: 2).err.contains(
                    "--role must be admin, evaluator or viewer"
                )
            )

            // The organisation, from files as Excel saves them.
            let branches = try kaoping.write("branches.csv", "\u{FEFF}支部编码,支部名称\r\nb01,办公室党支部\r\nb02,财务处党支部\r\n")
            #expect(try await kaoping.spawn(["import", "branches", branches]).out.contains("2"))
            var members = "工号,姓名,支部编码\r\n"
            for index in 1...6 { members += "100\(index),党员\(index),\(index <= 3 ? "b01" : "b02")\r\n" }
            #expect(try await kaoping.spawn(["import", "members", try kaoping.write("members.csv", members)]).out.contains("6"))
            let broken = try kaoping.write("broken.csv", "工号,姓名,支部编码\r\n,无工号,b01\r\n")
            let refused = try await kaoping.spawn(["import", "members", broken], expect: 1).err
            #expect(refused.contains("broken.csv: 第 2 行") || refused.contains("broken.csv: line 2"), "\(refused)")

            // A round, opened, extended, its links handed out.
            // A 2026 round closing in 2099 is a slip: refused with the warning and the way on.
            let spec = try kaoping.write("round.yaml", "title: 命令行轮次\nyear: 2026\ncloses: 2099-12-01 18:00\n")
            let slip = try await kaoping.spawn(["round", "create", "--spec", spec], expect: 1).err
            #expect(slip.contains("warning: This is the evaluation of 2026, but it closes in 2099") && slip.contains("--accept-warnings"), "\(slip)")
            let round = try await kaoping.spawn(["round", "create", "--accept-warnings", "--spec", spec]).out.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            #expect(UUID(uuidString: round) != nil)
            #expect(try await kaoping.spawn(["round", "list"]).out.contains("draft"))
            #expect(try await kaoping.spawn(["round", "open", round]).out.contains("opened"))
            // A deadline already past would close the round at once: refused, as on the page.
            #expect(try await kaoping.spawn(["round", "extend", round, "--closes", "2020-12-20 18:00"], expect: 1).err.contains("later than now"))
            #expect(try await kaoping.spawn(["round", "extend", round, "--closes", "2099-12-20 18:00"]).out.contains("closes at 2099-12-20 18:00"))
            // The evaluator, for one branch, then for the rest: only the new one counts.
            #expect(try await kaoping.spawn(["round", "assign", round, "--username", "admin"], expect: 1).err.contains("not an evaluator"))
            #expect(try await kaoping.spawn(["round", "assign", round, "--username", "pingshen", "--branches", "b02"]).out.contains("1 new"))
            #expect(try await kaoping.spawn(["round", "assign", round, "--username", "pingshen"]).out.contains("1 new"))
            #expect(
                try await kaoping.spawn(["round", "assign", round, "--username", "pingshen", "--branches", "b09"], expect: 1).err.contains("b09")
            )
            #expect(try await kaoping.spawn(["round", "list"]).out.contains("open "))
            #expect(try await kaoping.spawn(["invitations", "issue", round]).out.contains("issued 6 invitation(s)"))
            let exported = try await kaoping.spawn(["invitations", "export", round, "--out", "-", "--public-url", "https://kaoping.example.gov.cn"])
            // Decoding as UTF-8 drops the byte-order mark; the bytes keep it.
            #expect(exported.bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            #expect(exported.out.hasPrefix("支部编码,支部名称,工号,姓名,已填写,链接"))
            #expect(exported.out.components(separatedBy: "https://kaoping.example.gov.cn/s/").count == 7)
            #expect(!exported.err.contains("warning"))
            let local = try await kaoping.spawn(["invitations", "export", round, "--out", kaoping.directory + "/links.csv"])
            #expect(local.err.contains("warning: the links point at http://127.0.0.1:8080"))
            let reissued = try await kaoping.spawn([
                "invitations", "reissue", round, "--staff-number", "1001", "--public-url", "https://kaoping.example.gov.cn",
            ])
            #expect(reissued.out.hasPrefix("https://kaoping.example.gov.cn/s/"))
            let publicLinks = try await kaoping.spawn(["links", "public", round, "--public-url", "https://kaoping.example.gov.cn"])
            #expect(publicLinks.bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            #expect(publicLinks.out.hasPrefix("支部编码,支部名称,公开链接\r\nb01,办公室党支部,https://kaoping.example.gov.cn/p/"))
            #expect(publicLinks.out.contains("\r\nb02,财务处党支部,https://kaoping.example.gov.cn/p/"))

            // Answers arrive (as the server stores them), the round closes, results come out.
            try await kaoping.addResponses(round: round, perBranch: 6, score: "80 + n")
            #expect(try await kaoping.spawn(["close-due"]).out.contains("nothing due"))
            #expect(try await kaoping.spawn(["round", "close", round]).out.contains("closed"))
            #expect(try await kaoping.spawn(["round", "close", round], expect: 1).err.contains("cannot be closed"))
            let first = try await kaoping.spawn(["results", round]).out
            #expect(first.contains("\"methodVersion\""))
            #expect(try await kaoping.spawn(["results", round]).out == first)
            // A file given by a link is written through the link, not replaced by a new file.
            let target = kaoping.directory + "/results-target.json"
            let link = kaoping.directory + "/results-link.json"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            try await kaoping.spawn(["results", round, "--out", link])
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
            #expect(try String(contentsOfFile: target, encoding: .utf8) == first)
            let resultsCSV = try await kaoping.spawn(["export", "results", round, "--format", "csv", "--out", "-"])
            #expect(resultsCSV.bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            #expect(resultsCSV.out.contains("b01") && resultsCSV.out.contains("b02"))
            try await kaoping.spawn(["export", "results", round, "--format", "xlsx", "--out", kaoping.directory + "/results.xlsx"])
            let workbook = try Data(contentsOf: URL(fileURLWithPath: kaoping.directory + "/results.xlsx"))
            #expect(workbook.prefix(2) == Data("PK".utf8))
            let responses = try await kaoping.spawn(["export", "responses", round, "--out", "-"]).out
            // A header and the twelve answers (CRLF ends a line, as Excel writes it).
            #expect(responses.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 13, "\(responses)")
            #expect(
                try await kaoping.spawn(["round", "reopen", round, "--closes", "2099-12-31 18:00", "--reason", "补充测评"]).out.contains(
                    "reopened until 2099-12-31 18:00"
                )
            )

            // API tokens.
            let token = try await kaoping.spawn(["token", "create", "--name", "人事系统"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.hasPrefix("kp_"))
            let listed = try await kaoping.spawn(["token", "list"]).out
            #expect(listed.contains("live") && listed.contains("人事系统") && !listed.contains(token))
            let tokenID = String(listed.prefix(36))
            #expect(try await kaoping.spawn(["token", "revoke", tokenID]).out.contains("revoked"))
            #expect(try await kaoping.spawn(["token", "list"]).out.contains("revoked"))
            _ = try await kaoping.spawn(["token", "create", "--name", "绩效系统", "--write"])
            #expect(try await kaoping.spawn(["token", "list"]).out.contains("live     write  "))
        }
    }

    @Test func formsCheckSaysWhereAFormIsBroken() async throws {
        try await Self.withProgram { kaoping in
            let good = try await kaoping.run(["forms", "check", TestDatabaseServer.repositoryRoot + "/forms"]).out
            #expect(good.contains("member-integration v2 · survey"))
            // Without an argument: the forms built into the program.
            #expect(try await kaoping.run(["forms", "check"]).out == good)
            try FileManager.default.createDirectory(atPath: kaoping.directory + "/forms", withIntermediateDirectories: true)
            _ = try kaoping.write(
                "forms/bad.yaml",
                "id: bad\nversion: 1\nkind: survey\ntitle: x\nsections:\n  - title: s\n    items:\n      - key: q\n        type: rainbow\n"
            )
            let bad = try await kaoping.spawn(["forms", "check", kaoping.directory + "/forms"], expect: 1)
            #expect((bad.out + bad.err).contains("bad.yaml:9:"))
        }
    }

    @Test func aRoundIsCorrectedFromTheCommandLine() async throws {
        try await Self.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\nb02,财务处党支部\n")])
            try await kaoping.run(["import", "members", try kaoping.write("members.csv", "工号,姓名,支部编码\n101,甲,b01\n201,乙,b02\n202,丙,b02\n")])
            let draft = try kaoping.write("draft.yaml", "title: 2026 年度考评（草稿\nyear: 2026\ncloses: 2027-01-20 18:00\nbranches: [b01]\n")
            let round = try await kaoping.run(["round", "create", "--spec", draft]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            let fixed = try kaoping.write("fixed.yaml", "title: 2026 年度支部工作考评\nyear: 2026\ncloses: 2027-01-22 18:00\nbranches: [b01]\n")
            #expect(try await kaoping.run(["round", "edit", round, "--spec", fixed]).out == "saved\n")
            #expect(try await kaoping.query("SELECT title FROM rounds") == [["2026 年度支部工作考评"]])
            // Deleting asks for --yes.
            #expect(try await kaoping.run(["round", "delete", round], expect: 2).err.contains("--yes"))
            try await kaoping.run(["round", "open", round])
            // Opened: no longer edited or deleted, but joined by b02 and its two members' invitations.
            #expect(try await kaoping.run(["round", "delete", round, "--yes"], expect: 1).err.contains("cannot be deleted"))
            try await kaoping.run(["invitations", "issue", round])
            #expect(try await kaoping.run(["round", "add-branches", round, "b02"]).out == "added b02; 2 invitations made\n")
            #expect(try await kaoping.query("SELECT count(*)::text FROM invitations") == [["3"]])
            #expect(try await kaoping.run(["round", "cancel", round, "--reason", "  "], expect: 1).err.contains("reason"))
            #expect(try await kaoping.run(["round", "cancel", round, "--reason", "试运行"]).out == "cancelled\n")
            #expect(try await kaoping.query("SELECT status || ':' || cancel_reason FROM rounds") == [["cancelled:试运行"]])
            // A second draft is deleted outright.
            let other = try await kaoping.run(["round", "create", "--spec", draft]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await kaoping.run(["round", "delete", other, "--yes"]).out == "deleted\n")
            #expect(try await kaoping.query("SELECT count(*)::text FROM rounds") == [["1"]])
        }
    }

    @Test func aBackupRestoresToIdenticalResults() async throws {
        try await Self.withProgram { kaoping in
            let branches = try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\nb02,财务处党支部\n")
            try await kaoping.run(["import", "branches", branches])
            let spec = try kaoping.write("round.yaml", "title: 备份轮次\nyear: 2026\ncloses: 2099-12-01 18:00\n")
            let round = try await kaoping.run(["round", "create", "--accept-warnings", "--spec", spec]).out.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            try await kaoping.run(["round", "open", round])
            try await kaoping.addResponses(round: round, perBranch: 9, score: "60 + (n * 7) % 40")
            try await kaoping.run(["round", "close", round])
            let before = try await kaoping.run(["results", round]).out

            let backup = kaoping.directory + "/kaoping.dump"
            #expect(try await kaoping.run(["backup", "--out", backup]).out.contains("wrote a backup of \(kaoping.url.database)"))
            // Into the same, non-empty database: refused.
            #expect(try await kaoping.run(["restore", backup], expect: 1).err.contains("is not empty"))
            // Into a new, empty one: the same results, byte for byte.
            let empty = try await TestDatabaseServer.shared.makeEmptyDatabase()
            defer { Task { await TestDatabaseServer.shared.drop(empty) } }
            let restored = Program(url: empty, directory: kaoping.directory)
            #expect(try await restored.run(["restore", backup]).out.contains("restored"))
            #expect(try await restored.run(["results", round]).out == before)
            #expect(try await restored.run(["round", "list"]).out.contains("closed"))
        }
    }
}

extension CommandLineTests {
    @Test func visitCodesFromTheCommandLine() async throws {
        try await Self.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,服务窗口党支部\nb02,办公室党支部\n")])
            let round = try await kaoping.run([
                "round", "create", "--spec", try kaoping.write("round.yaml", "title: 窗口\nyear: 2026\ncloses: 2027-06-01 18:00\n"),
            ])
            .out.trimmingCharacters(in: .whitespacesAndNewlines)
            try await kaoping.run(["round", "open", round])
            #expect(
                try await kaoping.run(["visits", "access", round, "--mode", "codes", "--branches", "b01"]).out.contains(
                    "1 branch(es) now take public answers by: codes"
                )
            )
            #expect(try await kaoping.run(["visits", "access", round, "--mode", "codes", "--branches", "b09"], expect: 1).err.contains("'b09'"))
            #expect(
                try await kaoping.run(["visits", "issue", round, "--count", "4", "--branches", "b01"]).out.contains(
                    "made 4 visit code(s): b01 batch 1"
                )
            )
            #expect(try await kaoping.run(["visits", "issue", round, "--count", "2"]).out.contains("made 4 visit code(s): b01 batch 2, b02 batch 1"))
            let exported = try await kaoping.run(["visits", "export", round, "--branch", "b01", "--public-url", "https://kaoping.example.gov.cn"])
            #expect(exported.out.hasPrefix("支部编码,支部名称,批次,已使用,评价链接"))
            #expect(exported.out.components(separatedBy: "https://kaoping.example.gov.cn/v/").count == 7)
        }
    }

    /// The members' appraisal from the command line: a spec file, representatives from a list,
    /// the links, the tally, the decision and the files.
    @Test func anAppraisalFromTheCommandLine() async throws {
        try await Self.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\n")])
            try await kaoping.run([
                "import", "members", try kaoping.write("members.csv", "工号,姓名,支部编码\n001,甲,b01\n002,乙,b01\n003,丙,b01\n"),
            ])
            let broken = try await kaoping.run(
                ["appraisal", "create", "--spec", try kaoping.write("bad.yaml", "title: 评议\nyear: 2026\ntop-quota: many\n")],
                expect: 1
            )
            #expect(broken.err.contains("bad.yaml") && broken.err.contains("many"))
            let spec = "kind: member-appraisal\ntitle: 2026 年度民主评议党员\nyear: 2026\nrepresentatives: yes\nanonymity-threshold: 3\n"
            let round = try await kaoping.run(["appraisal", "create", "--spec", try kaoping.write("appraisal.yaml", spec)]).out
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await kaoping.run(["appraisal", "list"]).out.contains("\(round)\t2026\tdraft\t2026 年度民主评议党员"))
            let wrong = try await kaoping.run(["appraisal", "representatives", round, try kaoping.write("r.csv", "支部编码,姓名\nb09,代表\n")], expect: 1)
            #expect(wrong.err.contains("r.csv: ") && wrong.err.contains("b09"))
            #expect(
                try await kaoping.run(["appraisal", "representatives", round, try kaoping.write("r.csv", "支部编码,姓名\nb01,群众代表\n")]).out
                    .contains("added 1 of 1 representative(s)")
            )
            try await kaoping.run(["appraisal", "open", round])
            let links = try await kaoping.run(["appraisal", "links", round, "--out", "-", "--public-url", "https://kaoping.example.gov.cn"])
            #expect(links.out.hasPrefix("支部编码,支部名称,工号,姓名,身份,已测评,短码,链接"))
            #expect(links.out.components(separatedBy: "https://kaoping.example.gov.cn/a/").count == 5)
            #expect(links.out.contains("群众代表,群众代表,否"))
            try await kaoping.run(["appraisal", "close", round])
            #expect(try await kaoping.run(["appraisal", "close", round], expect: 1).err.contains("closed"))
            let tally = try await kaoping.run(["appraisal", "tally", round])
            #expect(tally.out.components(separatedBy: "withheld: fewer than k votes").count == 4)
            // Nothing submitted: nothing to approve.
            #expect(
                try await kaoping.run(["appraisal", "decide", round, "b01", "--approve"], expect: 1).err.contains(
                    "Awaiting the committee's proposals"
                )
            )
            #expect(try await kaoping.run(["appraisal", "decide", round, "b01"], expect: 2).err.contains("--approve or --return"))
            let summary = try await kaoping.run(["appraisal", "export", round, "--file", "summary", "--out", "-"])
            #expect(summary.out.hasPrefix("支部编码,支部名称,参评党员,优秀,合格,基本合格,不合格,未评定,组织评定\r\nb01,办公室党支部,3,0,0,0,0,3,待组织评定"))
            let out = directoryPath(kaoping, "appraisal.xlsx")
            try await kaoping.run(["appraisal", "export", round, "--out", out])
            #expect(try XLSXReader.sheets(Array(try Data(contentsOf: URL(fileURLWithPath: out)))).map(\.name) == ["支部汇总", "党员等次"])
        }
    }

    private func directoryPath(_ kaoping: Program, _ name: String) -> String { kaoping.directory + "/" + name }
}

extension CommandLineTests {
    /// `kaoping serve` as a process on its own embedded database: it refuses unsafe or doubled
    /// starts in one line, brings its database back when it dies, and stops (with the database)
    /// on SIGTERM; a command that fails leaves no database running behind it.
    @Test func serveSupervisesItsDatabaseAndStopsCleanly() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-serve-\(UUID().uuidString.prefix(8))"
        _ = DataDirectoryLock.makeDirectories(directory)
        chmod(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let port = try FreePort.find()

        func start(_ arguments: [String]) async throws -> ChildProgram {
            try await ChildProgram.start(
                Program.binary,
                arguments,
                environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAOPING_") },
                workingDirectory: "/",
                outputDirectory: directory
            )
        }
        func ready() async -> Bool {
            let connection = try? RawConnection(port: port)
            connection?.send("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return await connection?.readUntilClosed(timeout: 2).text.hasPrefix("HTTP/1.1 200") ?? false
        }
        let cluster = EmbeddedPostgres(dataDirectory: data)

        // Listening beyond this machine without a public address: refused in one line.
        let open = try await start(["serve", "--host", "0.0.0.0", "--port", "\(port)", "--data-dir", data])
        #expect(await open.finished(within: 30))
        #expect(open.status != 0)
        #expect(open.errors.contains("--public-url is not set"))

        // From the root directory: the migrations and forms come built in.
        let metricsPort = try FreePort.find()
        let server = try await start(
            ["serve", "--port", "\(port)", "--metrics-address", "127.0.0.1:\(metricsPort)", "--data-dir", data, "--log-level", "error"]
        )
        defer { server.send(SIGTERM) }
        var up = false
        for _ in 0..<120 where !up {
            up = await ready()
            if !up { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(up, "the server did not become ready")
        // Metrics on the address given, not on the application's port.
        func get(_ path: String, port: Int) async -> String {
            let connection = try? RawConnection(port: port)
            connection?.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return await connection?.readUntilClosed(timeout: 2).text ?? ""
        }
        let metrics = await get("/metrics", port: metricsPort)
        #expect(metrics.hasPrefix("HTTP/1.1 200") && metrics.contains("kaoping_http_requests_total{route=\"/readyz\""))
        #expect(await get("/metrics", port: port).hasPrefix("HTTP/1.1 404"))

        // A second server on the same data directory refuses in one line.
        let second = try await start(["serve", "--port", "\(try FreePort.find())", "--data-dir", data])
        #expect(await second.finished(within: 30))
        #expect(second.status == 1)
        let refusal = second.errors
        #expect(refusal.hasPrefix("kaoping: another kaoping serve is already running on the data directory"))
        #expect(refusal.split(separator: "\n").count == 1)

        // The database dies; the server brings it back by itself.
        let pidText = try String(contentsOfFile: cluster.clusterDirectory + "/postmaster.pid", encoding: .utf8)
        kill(try #require(pid_t(pidText.split(separator: "\n")[0])), SIGKILL)
        let killed = Date.now
        try await Task.sleep(for: .milliseconds(300))
        var back = false
        while !back && Date.now.timeIntervalSince(killed) < 10 {
            back = await ready()
            if !back { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(back, "not ready again within 10 s of the kill")

        // SIGTERM stops the server and the database it runs.
        server.send(SIGTERM)
        #expect(await server.finished(within: 30))
        #expect(await !cluster.isRunning())

        // A command that fails half-way stops the database it started.
        let close = try await start(["round", "close", UUID().uuidString, "--data-dir", data, "--log-level", "error"])
        #expect(await close.finished(within: 30))
        #expect(close.status != 0)
        #expect(await !cluster.isRunning())
    }
}

extension CommandLineTests {
    /// Every setting is a flag of `serve`, named and explained from the one settings table, and
    /// a flag given reaches the configuration, nested option groups included.
    @Test func everySettingIsAFlagOfServeAndReachesTheConfiguration() async throws {
        try await Self.withProgram { kaoping in
            let help = try await kaoping.run(["serve", "--help"]).out
            for setting in KaopingConfiguration.settings {
                #expect(help.contains("\(setting.flag) <"), "serve --help lacks \(setting.flag)")
                #expect(help.contains(setting.environmentVariable), "serve --help lacks \(setting.environmentVariable)")
            }
            let pool = try await kaoping.run(["serve", "--database-pool-size", "0"], expect: 2).err
            #expect(pool == "kaoping: configuration error: --database-pool-size (database-pool-size) must be a whole number from 1 to 500, not '0'\n")
            let port = try await kaoping.run(["serve", "--port", "99999"], expect: 2).err
            #expect(port.contains("--port (port) must be a whole number from 1 to 65535"))
            let forms = try await kaoping.run(["round", "list", "--forms-dir", "/nonexistent"], expect: 1).err
            #expect(forms.contains("/nonexistent"))
        }
    }
}

extension CommandLineTests {
    /// Units and their performance results from files as the offices have them: a branch's
    /// business score weighted by headcount, a year loaded again as a new version with the old
    /// one kept, units that move between branches, and bad rows named by line with nothing stored.
    @Test func unitsAndPerformanceResultsFromTheCommandLine() async throws {
        try await Self.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\nb02,业务党支部\n")])
            let units = try kaoping.write("units.csv", "\u{FEFF}单位编码,单位名称,支部编码,人数\r\nu1,办公室,b01,30\r\nu2,财务处,b01,10\r\nu3,业务一处,b02,\r\n")
            #expect(
                try await kaoping.run(["import", "units", units], environment: ["LANG": "en_US.UTF-8"]).out.contains("units: 3 created, 0 updated")
            )

            // Any other column is kept as an indicator; the unit's name is not one.
            let first = try kaoping.write("2025.csv", "单位编码,单位名称,得分,等次,重点工作完成率\nu1,办公室,90,优秀,98%\nu2,财务处,60,合格,80%\nu3,业务一处,75,良好,\n")
            let loaded = try await kaoping.run(
                ["import", "performance", first, "--year", "2025", "--source", "2025 年度绩效考评"],
                environment: ["LANG": "en_US.UTF-8"]
            )
            #expect(loaded.out.contains("performance results for 2025: version 1, 3 units"))

            try await kaoping.withDatabase { database in
                let performance = PerformanceRepository(database: database)
                // b01: (90 × 30 + 60 × 10) / 40; b02 has one unit, without a headcount.
                #expect(try await performance.businessScores(year: 2025) == ["b01": 82.5, "b02": 75])
                let indicators = try await database.query(
                    "SELECT r.indicators::text FROM performance_results r JOIN units u ON u.id = r.unit_id WHERE u.code = 'u1'"
                ).first?.decode(String.self)
                #expect(indicators == #"{"重点工作完成率": "98%"}"#)
            }

            // The same year again is a new version; the first stays as it was.
            let corrected = try kaoping.write("2025b.csv", "单位编码,得分\nu1,90\nu2,70\nu3,75\n")
            #expect(
                try await kaoping.run(["import", "performance", corrected, "--year", "2025"], environment: ["LANG": "en_US.UTF-8"]).out.contains(
                    "version 2"
                )
            )
            // u3 moves to b01 for the next year; its 2025 result stays with b02.
            try await kaoping.run(["import", "units", try kaoping.write("units2.csv", "单位编码,单位名称,支部编码,人数\nu3,业务一处,b01,20\n")])
            try await kaoping.run(["import", "performance", try kaoping.write("2026.csv", "单位编码,得分\nu1,80\nu2,80\nu3,50\n"), "--year", "2026"])
            try await kaoping.withDatabase { database in
                let performance = PerformanceRepository(database: database)
                #expect(try await performance.businessScores(year: 2025) == ["b01": 85, "b02": 75])
                #expect(try await performance.businessScores(year: 2025, version: 1) == ["b01": 82.5, "b02": 75])
                #expect(try await performance.loads(year: 2025).map(\.version) == [2, 1])
                // 2026: (80 × 30 + 80 × 10 + 50 × 20) / 60.
                let b01 = try #require(try await performance.businessScores(year: 2026)["b01"])
                #expect(abs(b01 - 70) < 1e-9)
                let audit = try await database.query("SELECT count(*)::int FROM audit_log WHERE action = 'performance.imported'").first!.decode(
                    Int.self
                )
                #expect(audit == 3)
            }

            // Every bad row is named by its line, and nothing of the file is stored.
            let bad = try kaoping.write("bad.csv", "单位编码,得分,等次\nu1,120,\nu9,80,\nu2,,\nu1,80,\n")
            let refused = try await kaoping.run(["import", "performance", bad, "--year", "2027"], expect: 1, environment: ["LANG": "en_US.UTF-8"])
            #expect(refused.err.contains("line 2: 得分 '120' is not a valid number"))
            #expect(refused.err.contains("line 3: no unit has the code 'u9'"))
            #expect(refused.err.contains("line 4: give a score or a grade"))
            #expect(refused.err.contains("nothing was imported"))
            try await kaoping.withDatabase { database in
                let loads = try await PerformanceRepository(database: database).loads(year: 2027)
                #expect(loads.isEmpty)
            }
        }
    }
}

extension CommandLineTests.Program {
    /// Runs `body` with the program's database, as the server would open it.
    func withDatabase(_ body: @Sendable (Database) async throws -> Void) async throws {
        let database = Database(url: url, poolSize: 2, registry: .init(), logger: Logger(label: "cli-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            try await body(database)
        }
    }
}
