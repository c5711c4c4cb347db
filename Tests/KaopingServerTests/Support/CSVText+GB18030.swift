@testable import KaopingServer

extension CSVText {
    /// Encodes text as GB18030, as old Excel saves a CSV file.
    static func encodeGB18030(_ text: String) -> [UInt8]? {
        convert(Array(text.utf8), from: "UTF-8", to: "GB18030")
    }
}
