import ArgumentParser
import Foundation
import Logging
import Testing

@testable import KaopingCommands
@testable import KaopingServer

/// Every file the admin area offers for a round is also a `kaoping export` command, made by the
/// same code: the test walks the list of downloads (`RoundDownload`), fetches each through the
/// web and writes each with the command (run in this process), and compares them.
@Suite("Every download both ways", .timeLimit(.minutes(3)))
struct DownloadsBothWaysTests {
    @Test func theExportCommandsAreTheDownloads() {
        let commands = Set(ExportCommand.configuration.subcommands.map { $0.configuration.commandName ?? "" })
        #expect(commands == Set(RoundDownload.allCases.map(\.rawValue)))
    }

    @Test func eachDownloadTheSameFromThePageAndTheCommand() async throws {
        try await TestApp.run { client, harness in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            _ = try await harness.services.handouts.issueInvitations(round: round, actor: .commandLine, logger: quiet)
            try await harness.loadWorkedExamplePerformance()
            try await harness.createUser("admin", password: "every download twice")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "every download twice")])

            let directory = NSTemporaryDirectory() + "kaoping-exports-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let secret = directory + "/secret"
            FileManager.default.createFile(atPath: secret, contents: Data(TestApp.invitationSecret))
            let url = harness.url
            let databaseURL = "postgres://\(url.username):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)"

            for download in RoundDownload.allCases {
                let page = try await admin.get(download.siteURL(id).path)
                #expect(page.status == .ok, "\(download)")
                #expect(page.headers[.contentType] == download.contentType)
                let out = directory + "/\(download.rawValue).\(download.fileExtension)"
                var arguments = [
                    "export", download.rawValue, id, "--out", out, "--database-url", databaseURL, "--secret-file", secret, "--forms-dir",
                    harness.configuration.formsDirectory, "--log-level", "error",
                ]
                if download == .invitations { arguments += ["--public-url", harness.configuration.publicBaseURL] }
                var command = try Kaoping.parseAsRoot(arguments)
                guard var runnable = command as? any AsyncParsableCommand else {
                    Issue.record("\(download): not a command")
                    continue
                }
                try await runnable.run()
                command = runnable
                let written = try #require(FileManager.default.contents(atPath: out), "\(download)")
                let served = Data(page.body.readableBytesView)
                if download == .workbook {
                    // A workbook carries the time it was written: compare what its sheets hold.
                    let fromPage = try XLSXReader.sheets(Array(served)).map { [$0.name] + $0.rows.flatMap(\.cells) }
                    let fromCommand = try XLSXReader.sheets(Array(written)).map { [$0.name] + $0.rows.flatMap(\.cells) }
                    #expect(fromPage == fromCommand)
                    #expect(fromPage.count >= 5)
                } else {
                    #expect(served == written, "\(download) differs")
                    // Not an empty table: a header and at least one row.
                    #expect(String(decoding: written, as: UTF8.self).split(separator: "\r\n").count >= 2, "\(download)")
                }
            }
        }
    }
}
