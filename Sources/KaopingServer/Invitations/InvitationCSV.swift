import Foundation

/// The invitation lists administrators download: UTF-8 with a byte-order mark (so that Excel
/// on Chinese Windows reads it as UTF-8), CRLF, cells neutralised against formulas.
public enum InvitationCSV {
    /// Every live link of a round, for mail merge.
    public static func links(_ links: [InvitationLink], publicBaseURL: String) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(["支部编码", "支部名称", "工号", "姓名", "已填写", "链接"])
        for link in links {
            csv += CSVWriter.row([
                link.branchCode, link.branchName, link.staffNumber, link.memberName, link.used ? "是" : "否",
                SiteURL.invitation(token: link.token).absolute(base: publicBaseURL),
            ])
        }
        return csv
    }

    /// Each branch's public link (the poster's QR code), for the service windows.
    public static func publicLinks(_ branches: [RoundRepository.PublicLink], publicBaseURL: String) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(["支部编码", "支部名称", "公开链接"])
        for branch in branches {
            csv += CSVWriter.row([branch.branchCode, branch.branchName, SiteURL.publicLink(code: branch.publicCode).absolute(base: publicBaseURL)])
        }
        return csv
    }

    /// Visit codes as links, for printing elsewhere (a window's screen, a label printer).
    public static func visitCodes(_ codes: [VisitCode], publicBaseURL: String) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(["支部编码", "支部名称", "批次", "已使用", "评价链接"])
        for code in codes {
            csv += CSVWriter.row([
                code.branchCode, code.branchName, String(code.batch), code.used ? "是" : "否",
                SiteURL.visitCode(code: code.code).absolute(base: publicBaseURL),
            ])
        }
        return csv
    }

    /// Members who have not answered yet, for reminders.
    public static func pending(_ members: [InvitationRepository.PendingMember]) -> String {
        var csv = "\u{FEFF}" + CSVWriter.row(["支部编码", "支部名称", "工号", "姓名", "手机"])
        for member in members {
            csv += CSVWriter.row([member.branchCode, member.branchName, member.staffNumber, member.name, member.phone ?? ""])
        }
        return csv
    }
}
