import Foundation
import Hummingbird

/// Loads the round a results route names (`{id}`) once, into `context.round`, before the
/// handler runs; a path naming no round gets 404 here, so handlers never look it up again.
public struct RoundResolverMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let results: ResultsService

    public init(results: ResultsService) {
        self.results = results
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let round = try await results.round(id) else {
            throw AppError.notFound
        }
        var context = context
        context.round = round
        return try await next(request, context)
    }
}

/// Lets a signed-in person through to a branch's results (`{code}`) only where
/// `ResultsService.mayRead` allows it; others get 403.
public struct BranchAccessMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let results: ResultsService

    public init(results: ResultsService) {
        self.results = results
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let user = context.user, let code = context.parameters.get("code") else { throw AppError.forbidden }
        guard try await results.mayRead(branchCode: code, user: user) else { throw AppError.forbidden }
        return try await next(request, context)
    }
}

extension AppRequestContext {
    /// The round `RoundResolverMiddleware` loaded.
    func resolvedRound() throws -> ResultsService.Round {
        guard let round else { throw AppError.notFound }
        return round
    }
}
