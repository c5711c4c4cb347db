import Foundation
import Hummingbird
import KaopingAggregation
import Logging

/// Every file of a round for Excel (`RoundDownload`): the ranking (CSV and workbook), the
/// anonymous answers and the evaluators' sheets (both streamed), the integrated sheet, the
/// diagnostic, and the invitation lists. Administrators only; the round comes loaded by
/// `RoundResolverMiddleware`, the file from `DownloadService`, as `kaoping export` makes it.
public struct ResultsDownloadsController: Sendable {
    let downloads: DownloadService
    let publicBaseURL: String

    public init(services: KaopingServices, publicBaseURL: String) {
        self.downloads = services.downloads
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        for download in RoundDownload.allCases {
            router.get(download.siteURL(SiteURL.id).route) { request, context in try await serve(download, request, context: context) }
        }
    }

    func serve(_ download: RoundDownload, _ request: Request, context: AppRequestContext) async throws -> Response {
        let file: DownloadFile?
        do {
            file = try await downloads.make(
                download,
                round: try context.resolvedRound(),
                language: download.hasColumnsInEveryLanguage ? Self.downloadLanguage(request) : context.language,
                publicBaseURL: publicBaseURL,
                logger: context.logger
            )
        } catch ResultsRepository.ResultsError.notOpened {
            throw AppError(status: .notFound, messageKey: "results_not_opened")
        }
        guard let file else { throw AppError.notFound }
        return Self.response(file)
    }

    /// The file as an attachment that no cache keeps.
    static func response(_ file: DownloadFile) -> Response {
        let headers: HTTPFields = [
            .contentType: file.contentType,
            .contentDisposition: Response.attachment(file.name, fallback: file.fallbackName),
            .cacheControl: "no-store",
        ]
        switch file.content {
        case .text(let text):
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .pieces(let produce):
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    try await produce { piece in try await writer.write(ByteBuffer(string: piece)) }
                    try await writer.finish(nil)
                }
            )
        case .temporaryFile(let path):
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(contentLength: size) { writer in
                    // Removed once open, before the first byte is sent: the open handle reads on,
                    // and nothing is left behind however the sending ends.
                    let handle = FileHandle(forReadingAtPath: path)
                    try? FileManager.default.removeItem(atPath: path)
                    guard let handle else { throw AppError.notFound }
                    defer { try? handle.close() }
                    while let data = try handle.read(upToCount: 64 * 1024), !data.isEmpty {
                        try await writer.write(ByteBuffer(bytes: data))
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// Downloads are Chinese unless `?lang=en` asks for English headers, whatever the page's
    /// language: the committee's copy is the Chinese one.
    static func downloadLanguage(_ request: Request) -> Language {
        request.uri.queryParameters["lang"] == "en" ? .english : .chinese
    }
}
