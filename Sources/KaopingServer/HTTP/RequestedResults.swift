import Foundation
import Hummingbird

extension ResultsService {
    /// The round `RoundResolverMiddleware` loaded for the request and its results as they
    /// stand, or the error that says why there are none (the round has not opened).
    func roundAndResults(for context: AppRequestContext) async throws -> (Round, CurrentResults) {
        let round = try context.resolvedRound()
        do {
            guard let current = try await current(round, logger: context.logger) else { throw AppError.notFound }
            return (round, current)
        } catch ResultsRepository.ResultsError.notOpened {
            throw AppError(status: .notFound, messageKey: "results_not_opened")
        }
    }
}
