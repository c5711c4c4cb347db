import CQRencode
import Foundation

/// QR codes drawn as SVG, with libqrencode doing the encoding.
public enum QRCode {
    public enum Failure: Error { case cannotEncode }

    /// The code for `text` as an SVG image: one path of dark modules, a quiet zone of four modules,
    /// sized by the viewBox so that it prints sharp at any size.
    public static func svg(_ text: String, title: String? = nil) throws -> String {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { throw Failure.cannotEncode }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        let size = width + 2 * quiet
        var path = ""
        path.reserveCapacity(width * width * 4)
        for y in 0..<width {
            var x = 0
            while x < width {
                // Bit 0 of each byte is the module's colour; runs of dark modules become one rectangle.
                guard code.pointee.data[y * width + x] & 1 == 1 else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < width && code.pointee.data[y * width + x + run] & 1 == 1 { run += 1 }
                path += "M\(x + quiet) \(y + quiet)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let label = title.map { "<title>\(escape($0))</title>" } ?? ""
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(size) \(size)\" shape-rendering=\"crispEdges\" role=\"img\">"
            + label + "<rect width=\"\(size)\" height=\"\(size)\" fill=\"#fff\"/><path d=\"\(path)\" fill=\"#000\"/></svg>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
