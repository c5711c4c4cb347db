import Foundation

/// The invitation lists administrators download, written by `CSVWriter`: UTF-8 with a
/// byte-order mark (so that Excel on Chinese Windows reads it as UTF-8), CRLF, cells
/// neutralised against formulas.
public enum InvitationCSV {
    /// Every live link of a round, for mail merge.
    public static func links(_ links: [InvitationLink], publicBaseURL: String) -> String {
        CSVWriter.document(
            header: ["支部编码", "支部名称", "工号", "姓名", "已填写", "链接"],
            rows: links.lazy.map { link in
                [
                    .text(link.branchCode), .text(link.branchName), .text(link.staffNumber), .text(link.memberName), .text(link.used ? "是" : "否"),
                    .text(SiteURL.invitation(token: link.token).absolute(base: publicBaseURL)),
                ]
            }
        )
    }

    /// Every live link of an appraisal round, members' and representatives', for mail merge.
    public static func appraisalLinks(_ links: [AppraisalRepository.Link], publicBaseURL: String) -> String {
        CSVWriter.document(
            header: ["支部编码", "支部名称", "工号", "姓名", "身份", "已测评", "短码", "链接"],
            rows: links.lazy.map { link in
                [
                    .text(link.branchCode), .text(link.branchName), .text(link.staffNumber), .text(link.name),
                    .text(link.isRepresentative ? "群众代表" : "党员"), .text(link.voted ? "是" : "否"), .text(link.shortCode),
                    .text(SiteURL.appraisalLink(token: link.token).absolute(base: publicBaseURL)),
                ]
            }
        )
    }

    /// Each branch's public link (the poster's QR code), for the service windows.
    public static func publicLinks(_ branches: [RoundRepository.PublicLink], publicBaseURL: String) -> String {
        CSVWriter.document(
            header: ["支部编码", "支部名称", "公开链接"],
            rows: branches.lazy.map { branch in
                [
                    .text(branch.branchCode), .text(branch.branchName),
                    .text(SiteURL.publicLink(code: branch.publicCode).absolute(base: publicBaseURL)),
                ]
            }
        )
    }

    /// Visit codes as links, for printing elsewhere (a window's screen, a label printer).
    public static func visitCodes(_ codes: [VisitCode], publicBaseURL: String) -> String {
        CSVWriter.document(
            header: ["支部编码", "支部名称", "批次", "已使用", "评价链接"],
            rows: codes.lazy.map { code in
                [
                    .text(code.branchCode), .text(code.branchName), .integer(code.batch), .text(code.used ? "是" : "否"),
                    .text(SiteURL.visitCode(code: code.code).absolute(base: publicBaseURL)),
                ]
            }
        )
    }

    /// Members who have not answered yet, for reminders.
    public static func pending(_ members: [InvitationRepository.PendingMember]) -> String {
        CSVWriter.document(
            header: ["支部编码", "支部名称", "工号", "姓名", "手机"],
            rows: members.lazy.map { member in
                [.text(member.branchCode), .text(member.branchName), .text(member.staffNumber), .text(member.name), .text(member.phone)]
            }
        )
    }
}
