import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection to the test server, for what an HTTP client library will not send:
/// half a request, a body one byte at a time, a request line no client would write.
final class RawConnection {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawConnectionError.socket }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close here: a class whose initializer throws once every property is set is
        // deinitialised, and `deinit` closes the socket. Closing it here as well closed it
        // twice, and the second close could take a descriptor the server had opened since.
        guard connected == 0 else { throw RawConnectionError.connect }
    }

    deinit { close(descriptor) }

    /// Sends bytes; `false` once the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads until the server closes the connection or `timeout` passes; returns what came and
    /// whether the connection was closed by the server. Never blocks a thread: the server under
    /// test runs on the same few threads as the tests.
    func readUntilClosed(timeout: TimeInterval) async -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date.now.addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received.append(contentsOf: buffer[0..<count])
        }
        return (String(decoding: received, as: UTF8.self), false)
    }
}

enum RawConnectionError: Error { case socket, connect }
