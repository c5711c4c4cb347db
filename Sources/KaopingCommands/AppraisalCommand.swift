import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer

struct AppraisalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appraisal",
        abstract:
            "The members' annual appraisal (民主评议党员): create, list, open and close rounds, hand out links, read tallies, approve or return proposals.",
        subcommands: [
            CreateAppraisal.self, ListAppraisals.self, OpenAppraisal.self, CloseAppraisal.self, AddRepresentatives.self, AppraisalLinks.self,
            AppraisalTallies.self, DecideAppraisal.self, ExportAppraisal.self,
        ]
    )
}

/// Reads an appraisal spec file, every problem named with the file.
func readAppraisalSpec(_ path: String) throws -> AppraisalSpec {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw fail("cannot read \(path)", code: 1) }
    do {
        return try AppraisalSpec.parse(yaml: text)
    } catch {
        throw fail("\(path): " + error.problems.map { $0.text(.english) }.joined(separator: "\n\(path): "), code: 1)
    }
}

/// The round an id names, or a failure that says so.
func appraisal(_ text: String, in services: KaopingServices) async throws -> AppraisalRound {
    guard let id = UUID(uuidString: text), let round = try await services.appraisals.repository.round(id) else {
        throw fail("'\(text)' is not an appraisal round (see kaoping appraisal list)")
    }
    return round
}

struct CreateAppraisal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an appraisal round from a spec file (see docs/appraisal.md).",
        discussion: "With an opening time the round is scheduled and opens by itself; without one it is a draft for 'kaoping appraisal open'."
    )
    @Option(help: "The appraisal spec (YAML).") var spec: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let parsed = try readAppraisalSpec(spec)
        let id = try await CommandState.run(options.flags) { state in
            try await state.services().appraisals.create(parsed, actor: .commandLine, logger: state.logger)
        }
        say(id.uuidString.lowercased())
    }
}

struct ListAppraisals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the appraisal rounds, newest first.")
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let rounds = try await CommandState.run(options.flags) { state in try await state.services().appraisals.repository.rounds() }
        for round in rounds {
            say("\(round.id.uuidString.lowercased())\t\(round.year)\t\(round.status.rawValue)\t\(round.title)")
        }
    }
}

struct OpenAppraisal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a draft or scheduled appraisal round now: its branches' members as they are now are appraised."
    )
    @Argument(help: "Round id.") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = self.id
        try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            try await services.appraisals.open(try await appraisal(id, in: services).id, actor: .commandLine, logger: state.logger)
        }
        say("opened")
    }
}

struct CloseAppraisal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close an open appraisal round's vote now; the ballots still waiting are counted."
    )
    @Argument(help: "Round id.") var id: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = self.id
        try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            try await services.appraisals.close(try await appraisal(id, in: services).id, actor: .commandLine, logger: state.logger)
        }
        say("closed")
    }
}

struct AddRepresentatives: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "representatives",
        abstract: "Add a round's non-party representatives (群众代表) from a CSV file or an Excel workbook.",
        discussion: """
            Columns: 支部编码 and 姓名, optionally 手机 and 党小组. All rows or none; every problem is named by line. \
            A representative already listed for the branch under the same name is kept. Then 'kaoping appraisal links' issues their links.
            """
    )
    @Argument(help: "Round id.") var id: String
    @Argument(help: "The list (.xlsx or .csv).") var file: String
    @OptionGroup var options: RoundOptions

    func run() async throws {
        guard let bytes = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)", code: 1) }
        let (id, path) = (self.id, file)
        let outcome = try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            return try await services.appraisals.addRepresentatives(
                try await appraisal(id, in: services).id,
                file: Array(bytes),
                actor: .commandLine,
                logger: state.logger
            )
        }
        switch outcome {
        case .added(let added, let listed): say("added \(added) of \(listed) representative(s)")
        case .problems(let problems, let workbook):
            throw fail(problems.map { "\(path): " + $0.message(.english, workbook: workbook) }.joined(separator: "\n"), code: 1)
        }
    }
}

struct AppraisalLinks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Issue the links members and representatives still lack, and write every live link as CSV (UTF-8 with BOM, for mail merge).",
        discussion: "Links are issued only while the round takes them (before its vote closes); the CSV lists every live link."
    )
    @Argument(help: "Round id.") var id: String
    @Option(name: .customLong("out"), help: "File to write; '-' for standard output.") var out: String
    @Option(name: .customLong("public-url"), help: settingHelp("public-url")) var publicURL: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = self.id
        let base = try publicBaseURL(options, override: publicURL)
        let (issued, links) = try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            let round = try await appraisal(id, in: services)
            let issued =
                round.status.takesHandouts ? try await services.appraisals.issueLinks(round.id, actor: .commandLine, logger: state.logger) : 0
            return (issued, try await services.appraisals.repository.links(round.id))
        }
        try OutputFile(out).write(InvitationCSV.appraisalLinks(links, publicBaseURL: base))
        if out != "-" { say("issued \(issued); wrote \(links.count) link(s) to \(out)") }
    }
}

struct AppraisalTallies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Print each member's votes per category, for one branch or all (tallies below k are withheld).",
        discussion: """
            Tab-separated: branch code, staff number, name, then the votes per category, not able to judge, and the most voted \
            category. Where representatives vote, each group's votes follow (党员·…, 群众代表·…), filled only where every group \
            that voted cast at least k votes.
            """
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "Only this branch.") var branch: String?
    @Option(name: .customLong("out"), help: "File to write; '-' (the default) for standard output.") var out: String = "-"
    @Flag(help: "Print how long reading and tallying took to standard error.") var timing = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let (id, only, timing) = (self.id, branch, self.timing)
        let text = try await CommandState.run(options.flags) { state -> String in
            let services = try await state.services()
            let round = try await appraisal(id, in: services)
            let clock = ContinuousClock()
            let start = clock.now
            let results = try await services.appraisals.results(round)
            let read = clock.now
            let categories = round.settings.categories
            let groups = round.settings.representativesVote ? AppraisalVoterGroup.allCases : []
            let groupNames: [AppraisalVoterGroup: String] = [.members: "党员", .representatives: "群众代表"]
            let groupHeader = groups.flatMap { group in (categories.map(\.name) + ["无法评价"]).map { "\(groupNames[group]!)·\($0)" } }
            var lines = [(["branch", "staff", "name"] + categories.map(\.name) + ["无法评价", "得票最多"] + groupHeader).joined(separator: "\t")]
            var votes = 0
            var withheld = 0
            for branch in results.branches where only == nil || only == branch.code {
                for member in branch.members where !member.subject.hasLeft {
                    let tally = member.tally
                    votes += tally.cast + tally.abstentions.values.reduce(0, +)
                    guard tally.isShown(threshold: round.settings.anonymityThreshold) else {
                        withheld += 1
                        lines.append(
                            [branch.code, member.subject.staffNumber, member.subject.name, "withheld: fewer than k votes"].joined(separator: "\t")
                        )
                        continue
                    }
                    let counts = tally.combined(categories: categories.count).map(String.init)
                    let suggested = tally.suggested(categories: categories.count).map { categories[$0].name } ?? ""
                    let split = tally.isSplitShown(threshold: round.settings.anonymityThreshold)
                    let groupCounts = groups.flatMap { group in
                        (tally.votes(of: group, categories: categories.count) + [tally.abstentions[group] ?? 0]).map { split ? String($0) : "" }
                    }
                    lines.append(
                        ([branch.code, member.subject.staffNumber, member.subject.name] + counts + [
                            String(tally.abstentions.values.reduce(0, +)), suggested,
                        ] + groupCounts)
                        .joined(separator: "\t")
                    )
                }
            }
            if timing {
                complain(
                    "branches \(results.branches.count), members \(lines.count - 1), votes \(votes), withheld \(withheld): "
                        + "read in \(read - start), tallied in \(clock.now - read)"
                )
            }
            return lines.joined(separator: "\n") + "\n"
        }
        try OutputFile(out).write(text)
    }
}

struct DecideAppraisal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Approve a branch's submitted proposals, or return them with a comment.",
        discussion: "Once approved, each member of the branch reads their own category and the branch's note through their link."
    )
    @Argument(help: "Round id.") var id: String
    @Argument(help: "Branch code.") var branch: String
    @Flag(help: "Approve the proposals.") var approve = false
    @Option(name: .customLong("return"), help: "Return the proposals with this comment.") var returnComment: String?
    @OptionGroup var options: RoundOptions

    func run() async throws {
        guard approve != (returnComment != nil) else { throw fail("give either --approve or --return COMMENT") }
        let (id, branch, approve, comment) = (self.id, self.branch, self.approve, returnComment ?? "")
        try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            let round = try await appraisal(id, in: services)
            try await services.appraisals.decide(
                round,
                branchCode: branch,
                approve: approve,
                comment: comment,
                actor: .commandLine,
                logger: state.logger
            )
        }
        say(approve ? "approved" : "returned")
    }
}

struct ExportAppraisal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the party committee's files of an appraisal round, as the admin area offers them.",
        discussion: """
            members: every member's tally, proposed category, note, explanation and flags (CSV); summary: each branch's count \
            per category (CSV); workbook: both as sheets of an .xlsx file. Tallies below the round's anonymity threshold are withheld.
            """
    )
    @Argument(help: "Round id.") var id: String
    @Option(help: "members, summary or workbook.") var file: String = "workbook"
    @Option(name: .customLong("out"), help: "File to write; '-' for standard output (CSV only).") var out: String
    @Flag(help: "English column headers.") var english = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        guard let download = AppraisalDownload(rawValue: file) else { throw fail("unknown file '\(file)': members, summary or workbook", code: 2) }
        guard download != .workbook || out != "-" else { throw fail("an xlsx workbook needs --out FILE", code: 2) }
        let (id, out, language) = (self.id, self.out, english ? Language.english : .chinese)
        try await CommandState.run(options.flags) { state in
            let services = try await state.services()
            let file = try await services.appraisals.download(download, round: try await appraisal(id, in: services), language: language)
            try await write(file, to: out)
        }
        if out != "-" { say("wrote \(out)") }
    }
}
