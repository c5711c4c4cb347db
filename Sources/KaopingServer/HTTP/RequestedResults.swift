import Foundation
import Hummingbird

extension ResultsRepository {
    /// The round named by the request's `{id}` and its results as they stand, or the error
    /// that says why there are none (no such round, or it has not opened).
    func requested(_ context: AppRequestContext, rounds: RoundRepository) async throws -> (RoundSummary, Current) {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let round = try await rounds.round(id) else {
            throw AppError.notFound
        }
        do {
            guard let current = try await current(roundID: id, logger: context.logger) else { throw AppError.notFound }
            return (round, current)
        } catch ResultsError.notOpened {
            throw AppError(status: .notFound, messageKey: "results_not_opened")
        }
    }
}
