import ArgumentParser
import Foundation
import KaopingAggregation
import KaopingServer
import Logging

struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Compute a round's results with the scoring method and write them as JSON.",
        discussion: """
            Provisional while the round is open. Running it again on a closed round gives the same \
            bytes: the method is deterministic (docs/scoring.md).
            """
    )
    @Argument(help: "Round id.") var round: String
    @Option(name: .customLong("out"), help: "File to write; '-' (the default) for standard output.") var out: String = "-"
    @Flag(help: "Print how long loading and computing took to standard error.") var timing = false
    @Flag(help: "Sum every response and gather every sheet's entries instead of reading what is kept of them (a check: the same bytes).")
    var fromResponses = false
    @OptionGroup var options: RoundOptions

    func run() async throws {
        let id = try roundID(round)
        let (timing, fromResponses) = (self.timing, self.fromResponses)
        let json: Data? = try await CommandState.run(options.flags) { state in
            let results = try await state.services().resultsRepository
            let logger = state.logger
            let clock = ContinuousClock()
            let start = clock.now
            // What leaves the server has the anonymity threshold applied, here as on every page.
            guard var result = try await results.compute(roundID: id, readingResponses: fromResponses, logger: logger) else { return nil }
            result.disclose()
            let computed = clock.now
            let data = try await ResultsJSON.data(result)
            if timing {
                let responses = result.subjects.reduce(0) { sum, subject in
                    sum + (subject[group: .members]?.responses ?? 0) + (subject[group: .public]?.responses ?? 0)
                }
                complain(
                    "subjects \(result.subjects.count), responses \(responses): loaded and computed in \(computed - start), "
                        + "encoded in \(clock.now - computed)"
                )
            }
            return data
        }
        guard let json else { throw fail("no round \(round)", code: 1) }
        try OutputFile(out).write(json)
    }
}
