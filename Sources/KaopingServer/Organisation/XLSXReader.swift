import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads the cells of an Excel workbook (.xlsx) as the text Excel shows, row by row, so that a
/// list saved from Excel as a workbook is read like the same list saved as CSV. Row numbers are
/// Excel's, so problems are reported at the line a person sees.
///
/// An .xlsx file is a zip archive (read with ZIPFoundation) of XML parts (read with Foundation's
/// XML parser): the workbook names its sheets, the relationships say which part holds each,
/// shared strings hold the text cells point to.
enum XLSXReader {
    struct Sheet {
        let name: String
        /// Rows that have cells, by Excel row number, each as its cells from column A on.
        let rows: [(number: Int, cells: [String])]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether the bytes are a zip archive, as an .xlsx file is.
    static func looksLikeWorkbook(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
    }

    /// The workbook's sheets in their order.
    static func sheets(_ bytes: [UInt8]) throws(Failure) -> [Sheet] {
        let archive: Archive
        do {
            archive = try Archive(data: Data(bytes), accessMode: .read)
        } catch {
            throw Failure(description: "not a readable .xlsx file (\(error))")
        }
        func part(_ path: String) throws(Failure) -> Data? {
            guard let entry = archive[path] else { return nil }
            var data = Data()
            do {
                _ = try archive.extract(entry) { data.append($0) }
            } catch {
                throw Failure(description: "\(path) cannot be read from the .xlsx file (\(error))")
            }
            return data
        }
        guard let workbook = try part("xl/workbook.xml") else { throw Failure(description: "not an Excel workbook (no xl/workbook.xml)") }
        let relationships = try part("xl/_rels/workbook.xml.rels").map(RelationshipsParser.parse) ?? [:]
        let shared = try part("xl/sharedStrings.xml").map(SharedStringsParser.parse) ?? []
        var sheets: [Sheet] = []
        for (name, relationship) in WorkbookParser.parse(workbook) {
            guard let target = relationships[relationship] else { continue }
            let path = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
            guard let data = try part(path) else { throw Failure(description: "the sheet \(name) is missing from the .xlsx file") }
            sheets.append(Sheet(name: name, rows: SheetParser.parse(data, shared: shared)))
        }
        return sheets
    }

    /// Runs one part of the workbook through a parser's delegate and hands the delegate back.
    /// A part that is not well-formed XML yields what was read before the fault.
    static func read<Delegate: NSObject & XMLParserDelegate>(_ data: Data, with delegate: Delegate) -> Delegate {
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        _ = parser.parse()
        return delegate
    }

    /// An element's name without its namespace prefix: the parser runs without namespace
    /// processing, so an element some programs write as `<x:row>` arrives as "x:row".
    static func localName(_ name: String) -> Substring {
        guard let colon = name.lastIndex(of: ":") else { return name[...] }
        return name[name.index(after: colon)...]
    }

    /// The zero-based column of a cell reference such as "AB12".
    static func column(_ reference: String) -> Int? {
        var column = 0
        var letters = 0
        for scalar in reference.unicodeScalars {
            guard ("A"..."Z").contains(scalar) else { break }
            column = column * 26 + Int(scalar.value - 64)
            letters += 1
        }
        return letters > 0 ? column - 1 : nil
    }

    /// A number as Excel shows it by default: at most 15 significant digits, so that the binary
    /// rounding of 0.1 + 0.2 reads as 0.3.
    static func numberText(_ raw: String) -> String {
        guard raw.count > 15, let value = Double(raw) else { return raw }
        var text = String(format: "%.15g", value)
        if text.contains("e") { return text }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

private final class WorkbookParser: NSObject, XMLParserDelegate {
    var sheets: [(String, String)] = []

    static func parse(_ data: Data) -> [(name: String, relationship: String)] {
        let delegate = XLSXReader.read(data, with: WorkbookParser())
        return delegate.sheets.map { (name: $0.0, relationship: $0.1) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        guard XLSXReader.localName(name) == "sheet", let sheetName = attributes["name"] else { return }
        // The relationship attribute is r:id, whatever prefix the file gives its namespace.
        if let relationship = attributes.first(where: { $0.key == "r:id" || $0.key.hasSuffix(":id") })?.value {
            sheets.append((sheetName, relationship))
        }
    }
}

private final class RelationshipsParser: NSObject, XMLParserDelegate {
    var targets: [String: String] = [:]

    static func parse(_ data: Data) -> [String: String] {
        let delegate = XLSXReader.read(data, with: RelationshipsParser())
        return delegate.targets
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        guard XLSXReader.localName(name) == "Relationship", let id = attributes["Id"], let target = attributes["Target"] else { return }
        targets[id] = target
    }
}

/// Each shared string is the text of its runs, without the phonetic guides (rPh) Excel may add.
private final class SharedStringsParser: NSObject, XMLParserDelegate {
    var strings: [String] = []
    var current = ""
    var inText = false
    var inPhonetic = false

    static func parse(_ data: Data) -> [String] {
        let delegate = XLSXReader.read(data, with: SharedStringsParser())
        return delegate.strings
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        switch XLSXReader.localName(name) {
        case "si": current = ""
        case "rPh": inPhonetic = true
        case "t": inText = !inPhonetic
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch XLSXReader.localName(name) {
        case "si": strings.append(current)
        case "rPh": inPhonetic = false
        case "t": inText = false
        default: break
        }
    }
}

private final class SheetParser: NSObject, XMLParserDelegate {
    let shared: [String]
    var rows: [(number: Int, cells: [String])] = []
    var rowNumber = 0
    var cells: [Int: String] = [:]
    var cellColumn = 0
    var cellType = ""
    var value = ""
    var collecting = false
    /// Inside an inline string's phonetic guide (rPh), which is not part of its text.
    var inPhonetic = false

    init(shared: [String]) {
        self.shared = shared
    }

    static func parse(_ data: Data, shared: [String]) -> [(number: Int, cells: [String])] {
        let delegate = XLSXReader.read(data, with: SheetParser(shared: shared))
        return delegate.rows
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        switch XLSXReader.localName(name) {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            cells = [:]
            cellColumn = -1
        case "c":
            cellColumn = attributes["r"].flatMap(XLSXReader.column) ?? cellColumn + 1
            cellType = attributes["t"] ?? "n"
            value = ""
        case "rPh":
            inPhonetic = true
        case "v", "t":
            collecting = !inPhonetic
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting { value += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch XLSXReader.localName(name) {
        case "v", "t":
            collecting = false
        case "rPh":
            inPhonetic = false
        case "c":
            let text: String
            switch cellType {
            case "s": text = Int(value).flatMap { shared.indices.contains($0) ? shared[$0] : nil } ?? ""
            case "b": text = value == "1" ? "TRUE" : "FALSE"
            case "inlineStr", "str", "e": text = value
            default: text = XLSXReader.numberText(value)
            }
            if !text.isEmpty { cells[cellColumn] = text }
        case "row":
            if let last = cells.keys.max() {
                rows.append((rowNumber, (0...last).map { cells[$0] ?? "" }))
            }
        default:
            break
        }
    }
}
