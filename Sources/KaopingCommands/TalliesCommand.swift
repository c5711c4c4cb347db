import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer

/// The tallies the database keeps of each round's responses, which the results read.
struct TalliesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tallies",
        abstract: "Check a round's kept tallies against its responses, or make them again.",
        discussion: """
            The results read one tally per branch and group, kept in the transaction that mixes \
            ballots into responses (docs/scoring.md, "Tallies"). `verify` sums the responses \
            again and compares; `rebuild` replaces the tallies with those sums.
            """,
        subcommands: [Verify.self, Rebuild.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sum the round's responses again and compare with the kept tallies; exit 1 if any differs."
        )
        @Argument(help: "Round id.") var round: String
        @OptionGroup var options: RoundOptions

        func run() async throws {
            let id = try roundID(round)
            let check = try await CommandState.run(options.flags) { state in
                try await state.services().tallies.verify(roundID: id, logger: state.logger)
            }
            guard let check else { throw fail("no round \(round)", code: 1) }
            for difference in check.differences {
                say(
                    "differs: branch \(difference.branchCode), \(difference.group): kept \(Self.describe(difference.kept)), "
                        + "from the responses \(Self.describe(difference.fromResponses))"
                )
            }
            for sheet in check.sheetDifferences {
                say("differs: the sheet of branch \(sheet.branchCode) by \(sheet.evaluator): its kept items are not its entries")
            }
            if check.differences.isEmpty && check.sheetDifferences.isEmpty {
                say(
                    "\(check.compared) tallies and \(check.sheetsCompared) sheets checked: each is what its responses or entries add up to"
                )
            } else {
                throw fail(
                    "\(check.differences.count) of \(check.compared) tallies differ from their responses and \(check.sheetDifferences.count) of "
                        + "\(check.sheetsCompared) sheets from their entries; `kaoping tallies rebuild \(round)` makes them again",
                    code: 1
                )
            }
        }

        static func describe(_ tally: ResponseTally?) -> String {
            guard let tally else { return "none" }
            return "\(tally.responses) responses, \(tally.scores.count) scores"
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the round's tallies again from its responses.")
        @Argument(help: "Round id.") var round: String
        @OptionGroup var options: RoundOptions

        func run() async throws {
            let id = try roundID(round)
            let kept = try await CommandState.run(options.flags) { state in
                try await state.services().rounds.rebuildTallies(id, actor: .commandLine, logger: state.logger)
            }
            say("\(kept) tallies made again from the round's responses")
        }
    }
}
