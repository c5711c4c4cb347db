import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request, once started, has not fully arrived within a deadline.
///
/// Hummingbird's idle timeout closes a connection that sends nothing at all for a while (a
/// request line that never finishes, a kept-alive connection with no next request), but each
/// piece of a body restarts that clock: a client that sends one byte every few seconds would
/// hold its connection, and a request handler, for as long as it likes. A few hundred such
/// clients in a round's last hour would take every connection. This handler gives the whole
/// request, head to end, one deadline.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadline: TimeAmount
    private var pending: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            pending?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            pending = context.eventLoop.scheduleTask(in: deadline) {
                loopBound.value.close(promise: nil)
            }
        case .body:
            break
        case .end:
            pending?.cancel()
            pending = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
