import HTTPTypes
import HummingbirdTesting
import NIOCore

extension TestClientProtocol {
    /// Runs `body` with a new TCP connection to the same live server, closed afterwards, as a
    /// separate phone or browser would have.
    ///
    /// The live test client sends every request down one keep-alive connection, and the server
    /// answers a connection's requests in order: requests "sent at once" through it reach the
    /// server one after another. Tests about people acting at once give each their own.
    func onOwnConnection<Value: Sendable>(_ body: (TestClient) async throws -> Value) async throws -> Value {
        guard let port else { preconditionFailure("a connection of its own needs a live server") }
        let connection = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(30)))
        connection.connect()
        do {
            let value = try await body(connection)
            try await connection.shutdown()
            return value
        } catch {
            try? await connection.shutdown()
            throw error
        }
    }
}

/// What a page or download came back as, whichever connection it came on.
protocol HTTPReply {
    var status: HTTPResponse.Status { get }
    var headers: HTTPFields { get }
    var body: ByteBuffer { get }
}

extension TestResponse: HTTPReply {}

/// A reply to a `Browser`.
struct Reply: HTTPReply, Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer
}

extension HTTPReply {
    var text: String { String(buffer: body) }
    var location: String? { headers[.location] }

    /// The value of a hidden field in a rendered page.
    func hidden(_ name: String) -> String? {
        guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}
