import Foundation
import KaopingAggregation

/// A round's results as the JSON that the stored snapshot, the API and `kaoping results` hold:
/// keys sorted, made one branch at a time. Encoding a province's results whole built the
/// encoder's tree of all 25,000 branches beside the 28 MB of text, which grew the server by
/// about 200 MB; branch by branch it holds one branch's tree and the text. The bytes are those
/// of the whole (a test holds them equal), so a snapshot reads back as before.
public enum ResultsJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Appends `result` to `piece`, handing `piece` to `send` whenever it has grown past `size`.
    static func write(
        _ result: RoundResult,
        encoder: JSONEncoder,
        to piece: inout Data,
        size: Int = 64 * 1024,
        send: (Data) async throws -> Void
    ) async throws {
        piece.append(contentsOf: #"{"configurationHash":"#.utf8)
        piece.append(try encoder.encode(result.configurationHash))
        piece.append(contentsOf: #","diagnostics":"#.utf8)
        piece.append(try encoder.encode(result.diagnostics))
        piece.append(contentsOf: #","methodVersion":"#.utf8)
        piece.append(try encoder.encode(result.methodVersion))
        piece.append(contentsOf: #","subjects":["#.utf8)
        for (position, subject) in result.subjects.enumerated() {
            if position > 0 { piece.append(UInt8(ascii: ",")) }
            piece.append(try encoder.encode(subject))
            if piece.count >= size {
                try await send(piece)
                piece = Data()
            }
        }
        piece.append(contentsOf: "]}".utf8)
    }

    /// The whole result at once.
    public static func data(_ result: RoundResult) async throws -> Data {
        var whole = Data()
        var piece = Data()
        try await write(result, encoder: encoder, to: &piece) { whole.append($0) }
        whole.append(piece)
        return whole
    }

    static func text(_ result: RoundResult) async throws -> String {
        String(decoding: try await data(result), as: UTF8.self)
    }
}
