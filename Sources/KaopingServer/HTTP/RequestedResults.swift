import Foundation
import Hummingbird

extension ResultsService {
    /// The round the request names (as `RoundResolverMiddleware` loaded it, or by its `{id}`)
    /// and its results as they stand, or the error that says why there are none (no such
    /// round, or it has not opened).
    func roundAndResults(for context: AppRequestContext) async throws -> (Round, CurrentResults) {
        let round: Round
        if let resolved = context.round {
            round = resolved
        } else {
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let found = try await self.round(id) else {
                throw AppError.notFound
            }
            round = found
        }
        do {
            guard let current = try await current(round, logger: context.logger) else { throw AppError.notFound }
            return (round, current)
        } catch ResultsRepository.ResultsError.notOpened {
            throw AppError(status: .notFound, messageKey: "results_not_opened")
        }
    }
}
