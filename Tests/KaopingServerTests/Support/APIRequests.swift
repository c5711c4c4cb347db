import Foundation
import HTTPTypes
import HummingbirdTesting

/// A GET of the JSON API with a token (`nil`: none), and its body parsed as JSON.
func getJSON(_ client: any TestClientProtocol, _ path: String, token: String?) async throws -> (HTTPResponse.Status, Any) {
    var headers: HTTPFields = [:]
    if let token { headers[.authorization] = "Bearer \(token)" }
    let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
    return (response.status, try JSONSerialization.jsonObject(with: Data(buffer: response.body)))
}
