using Bctrl.Relay.Loops;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>A connection's socket taken from Kestrel after an upgrade, with the bytes read from it already.</summary>
/// <param name="Fd">The socket's descriptor; its owner now closes it.</param>
/// <param name="Token">Its registration on <paramref name="Loop"/>, for the new owner to rebind.</param>
/// <param name="Leftover">Bytes the client sent behind its upgrade request and the transport read already.</param>
/// <param name="Released">Called once the descriptor is closed: gives the connection's place in the budget back.</param>
internal readonly record struct DetachedSocket(IoLoop Loop, int Fd, int Token, ReadOnlyMemory<byte> Leftover, Action? Released);

/// <summary>
/// The relay transport's connections offer this (issue 9): after the 101, the attach endpoint takes the socket out of
/// Kestrel's hands, so Kestrel ends its HTTP connection (and frees its objects) while the socket stays open for the
/// splice. Absent on Kestrel's own Sockets transport.
/// </summary>
internal interface IConnectionDetachFeature
{
    /// <summary>The I/O loop the connection lives on: the runtime is dialled there, and the splice runs there.</summary>
    IoLoop Loop { get; }

    /// <summary>
    /// Whether the client ended its stream with nothing behind its upgrade request: it can send no frame, so it has left
    /// and the attach is not made. (An end of stream alone does not end the request on this transport: a client may
    /// half-close behind its close frame and still wait for the answer.)
    /// </summary>
    bool ClientLeft();

    /// <summary>
    /// Stops reading, waits until everything written so far (the 101) has been sent, and hands the socket over with
    /// the bytes already read. From then on Kestrel's end of the connection no longer touches the socket.
    /// </summary>
    ValueTask<DetachedSocket> DetachAsync();
}
