import Foundation

/// The organisation: every branch with its members count, the upload of branch and member
/// lists, and the form for one more branch (with what was typed, when it was refused).
/// The two downloads of one kind's template.
struct TemplateLinks {
    let xlsx: String
    let csv: String

    init(_ kind: OrganisationUpload.Kind) {
        xlsx = SiteURL.importTemplate(file: kind.rawValue + ".xlsx").path
        csv = SiteURL.importTemplate(file: kind.rawValue + ".csv").path
    }
}

/// The templates of every kind of list.
struct TemplateDownloads {
    let branches = TemplateLinks(.branches)
    let members = TemplateLinks(.members)
    let units = TemplateLinks(.units)
    let performance = TemplateLinks(.performance)
}

struct OrganisationPage: PageModel {
    struct BranchRow {
        let code: String
        let name: String
        let organisation: String
        let secretary: String
        let members: Int
        let inactive: Bool
        let link: String
    }

    /// A new branch as typed.
    struct NewBranch {
        var code = ""
        var name = ""
        var parent = ""
        var secretary = ""
    }

    struct UnitRowModel {
        let code: String
        let name: String
        let branch: String
        let headcount: String
        let inactive: Bool
        let link: String
    }

    /// A new unit as typed.
    struct NewUnit {
        var code = ""
        var name = ""
        var branch = ""
        var headcount = ""
    }

    let branches: [BranchRow]
    let hasBranches: Bool
    let branchCount: Int
    let memberCount: Int
    let notice: String?
    let add: NewBranch
    let addProblems: [String]
    let hasAddProblems: Bool
    let units: [UnitRowModel]
    let hasUnits: Bool
    let addUnit: NewUnit
    let unitProblems: [String]
    let hasUnitProblems: Bool
    let addUnitAction = SiteURL.units.path
    let importAction = SiteURL.organisationImport.path
    /// A blank list to download for each kind, as a workbook and as CSV.
    let templates = TemplateDownloads()
    let addAction = SiteURL.branches.path
    /// Proposed for a performance file: last year, whose results come out early in this one.
    let year = Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year.map { $0 - 1 } ?? 2025

    init(
        _ branches: [BranchSummary],
        units: [PerformanceRepository.UnitSummary],
        notice: String?,
        add: NewBranch = NewBranch(),
        addProblems: [String] = [],
        addUnit: NewUnit = NewUnit(),
        unitProblems: [String] = []
    ) {
        self.units = units.map { unit in
            UnitRowModel(
                code: unit.code,
                name: unit.name,
                branch: unit.branchCode,
                headcount: unit.headcount.map(String.init) ?? "",
                inactive: !unit.active,
                link: SiteURL.unit(unit.code).path
            )
        }
        hasUnits = !units.isEmpty
        self.addUnit = addUnit
        self.unitProblems = unitProblems
        hasUnitProblems = !unitProblems.isEmpty
        self.branches = branches.map { branch in
            BranchRow(
                code: branch.code,
                name: branch.name,
                organisation: branch.organisation ?? "",
                secretary: branch.secretary ?? "",
                members: branch.members,
                inactive: !branch.active,
                link: SiteURL.branch(branch.code).path
            )
        }
        hasBranches = !branches.isEmpty
        branchCount = branches.count
        memberCount = branches.reduce(0) { $0 + $1.members }
        self.notice = notice
        self.add = add
        self.addProblems = addProblems
        hasAddProblems = !addProblems.isEmpty
    }
}

/// One branch: its details to edit, its members, and the form for one more member.
struct BranchPage: PageModel {
    struct Edit {
        var name: String
        var parent: String
        var secretary: String
        var active: Bool
    }

    struct MemberRow {
        let staff: String
        let name: String
        let phone: String
        let inactive: Bool
        let link: String
    }

    /// A new member as typed.
    struct NewMember {
        var staff = ""
        var name = ""
        var phone = ""
    }

    let code: String
    let name: String
    let organisation: String
    let secretary: String?
    let inactive: Bool
    let edit: Edit
    let editProblems: [String]
    let hasEditProblems: Bool
    let members: [MemberRow]
    let hasMembers: Bool
    let memberCount: Int
    let add: NewMember
    let addProblems: [String]
    let hasAddProblems: Bool
    let notice: String?
    let editAction: String
    let addMemberAction: String
    let history: String
    let back = SiteURL.organisation.path

    init(
        _ branch: BranchSummary,
        members: [MemberSummary],
        notice: String?,
        edit: Edit? = nil,
        editProblems: [String] = [],
        add: NewMember = NewMember(),
        addProblems: [String] = []
    ) {
        code = branch.code
        name = branch.name
        history = SiteURL.branchHistory(branch.code).path
        organisation = branch.organisation ?? ""
        secretary = branch.secretary
        inactive = !branch.active
        self.edit =
            edit ?? Edit(name: branch.name, parent: branch.organisation ?? "", secretary: branch.secretary ?? "", active: branch.active)
        self.editProblems = editProblems
        hasEditProblems = !editProblems.isEmpty
        self.members = members.map { member in
            MemberRow(
                staff: member.staffNumber,
                name: member.name,
                phone: member.phone ?? "",
                inactive: !member.active,
                link: SiteURL.member(member.staffNumber).path
            )
        }
        hasMembers = !members.isEmpty
        memberCount = members.count
        self.add = add
        self.addProblems = addProblems
        hasAddProblems = !addProblems.isEmpty
        self.notice = notice
        editAction = SiteURL.branch(branch.code).path
        addMemberAction = SiteURL.branchMembers(branch.code).path
    }
}

/// One member's details to edit, and what was wrong with the last try.
struct MemberPage: PageModel {
    struct Edit {
        var name: String
        var branch: String
        var phone: String
        var active: Bool
    }

    let staff: String
    let name: String
    let edit: Edit
    let problems: [String]
    let hasProblems: Bool
    let action: String
    let branchLink: String

    init(_ member: MemberSummary, edit: Edit? = nil, problems: [String] = []) {
        staff = member.staffNumber
        name = member.name
        self.edit = edit ?? Edit(name: member.name, branch: member.branchCode, phone: member.phone ?? "", active: member.active)
        self.problems = problems
        hasProblems = !problems.isEmpty
        action = SiteURL.member(member.staffNumber).path
        branchLink = SiteURL.branch(member.branchCode).path
    }
}

/// An uploaded list before it is imported: what was read, every bad row, and a sample.
struct ImportPreviewPage: PageModel {
    struct SampleRow {
        let a: String
        let b: String
        let c: String
        let d: String
    }

    let fileName: String
    let kindLabel: String
    let applied: Bool
    let rowCount: Int
    let problemCount: Int
    let problems: [String]
    let hasProblems: Bool
    let canImport: Bool
    let encoding: String
    /// "These columns are ignored: …", when the file has columns the list does not read.
    let ignoredColumns: String?
    let columns: [String]
    let sample: [SampleRow]
    let applyAction: String
    let back = SiteURL.organisation.path

    init<Row>(
        _ upload: OrganisationUpload,
        id: UUID,
        preview: ImportPreview<Row>,
        columns: [String],
        sample: [SampleRow],
        language: Language
    ) {
        fileName = upload.fileName
        kindLabel = language.text("org_kind_\(upload.kind.rawValue)")
        applied = upload.appliedAt != nil
        rowCount = preview.rows.count
        problemCount = preview.problems.count
        problems = preview.problems.map { $0.message(language, workbook: preview.encoding == .workbook) }
        hasProblems = !preview.problems.isEmpty
        canImport = preview.canImport
        encoding = preview.encoding?.rawValue ?? "?"
        ignoredColumns =
            preview.ignoredColumns.isEmpty ? nil : language.text("org_ignored_columns", ["columns": language.quotedList(preview.ignoredColumns)])
        self.columns = columns
        self.sample = sample
        applyAction = SiteURL.organisationImportApply(id.lowercased).path
    }
}

/// An upload that could not be read at all (no file, no kind).
struct UploadProblemPage: PageModel {
    let message: String
    let back = SiteURL.organisation.path
}

/// One business unit's details to edit: its name, the branch that covers it, its headcount.
struct UnitPage: PageModel {
    struct Edit {
        var name: String
        var branch: String
        var headcount: String
        var active: Bool
    }

    let code: String
    let name: String
    let edit: Edit
    let problems: [String]
    let hasProblems: Bool
    let action: String
    let back = SiteURL.organisation.path

    init(_ unit: PerformanceRepository.UnitSummary, edit: Edit? = nil, problems: [String] = []) {
        code = unit.code
        name = unit.name
        self.edit = edit ?? Edit(name: unit.name, branch: unit.branchCode, headcount: unit.headcount.map(String.init) ?? "", active: unit.active)
        self.problems = problems
        hasProblems = !problems.isEmpty
        action = SiteURL.unit(unit.code).path
    }
}
