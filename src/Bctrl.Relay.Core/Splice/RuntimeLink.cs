using System.Net.Sockets;

namespace Bctrl.Relay.Splice;

/// <summary>
/// The runtime's side of a splice: the bytes of the relay's WebSocket client connection to the runtime. In production
/// a TCP socket (<see cref="SocketRuntimeLink"/>) or, for a <c>wss://</c> runtime, a TLS stream's pipes
/// (<see cref="PipeRuntimeLink"/>); in the pump benchmark and the splice's unit tests a pair of pipes
/// (<see cref="PipeRuntimeLink"/>), so the pump's own cost can be measured without the kernel's.
/// </summary>
internal abstract class RuntimeLink : IDisposable
{
    /// <summary>What <see cref="TryReceive"/> returns when nothing is waiting.</summary>
    public const int NothingWaiting = -1;

    /// <summary>
    /// Completes when data or the end of the stream is waiting, holding no buffer while it waits. The result means
    /// nothing. The socket's own <see cref="ValueTask{TResult}"/> is handed back as it is: a wrapper awaited per
    /// message would allocate per message.
    /// </summary>
    public abstract ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes what is waiting without waiting: the bytes copied into <paramref name="destination"/>, 0 at the end of
    /// the stream, or <see cref="NothingWaiting"/>. Throws <see cref="SocketException"/> when the connection failed.
    /// </summary>
    public abstract int TryReceive(Span<byte> destination);

    /// <summary>
    /// Sends all of <paramref name="data"/>. A send that does not complete at once means the runtime is not reading
    /// (backpressure); the splice times it. The result means nothing.
    /// </summary>
    public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Ends the connection both ways; the runtime sees the end of the stream.</summary>
    public abstract void Shutdown();

    public abstract void Dispose();
}

/// <summary>The runtime's TCP connection, non-blocking for receives.</summary>
internal sealed class SocketRuntimeLink : RuntimeLink
{
    private readonly Socket _socket;
    private readonly Memory<byte> _peekByte = new byte[1];

    public SocketRuntimeLink(Socket socket)
    {
        _socket = socket;
        // Receives are non-blocking (TryReceive); the only wait is the peek. Sends stay asynchronous.
        _socket.Blocking = false;
    }

    /// <summary>
    /// A one-byte peek into the link's own byte. A zero-byte receive was tried first, but on Linux it can complete at
    /// once with nothing to read (readiness left over from the handshake's reads).
    /// </summary>
    public override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
        => _socket.ReceiveAsync(_peekByte, SocketFlags.Peek, cancellationToken);

    public override int TryReceive(Span<byte> destination)
    {
        var received = _socket.Receive(destination, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => received,
            SocketError.WouldBlock => NothingWaiting,
            _ => throw new SocketException((int)error),
        };
    }

    /// <summary>A stream socket's send completes only when every byte is sent.</summary>
    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        => _socket.SendAsync(data, SocketFlags.None, cancellationToken);

    public override void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already closed by the runtime.
        }
    }

    public override void Dispose() => _socket.Dispose();
}
