using System.Net.Sockets;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>Recognises the system refusing a descriptor, however deep a client library wrapped it.</summary>
internal static class Descriptors
{
    /// <summary><c>EMFILE</c>, <c>ENFILE</c> (too many open files) or <c>ENOBUFS</c>.</summary>
    public static bool IsOutOf(SocketError error) => error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;

    /// <summary>Whether <paramref name="exception"/> or one it wraps is a socket that could not be had for want of a descriptor.</summary>
    public static bool IsOutOf(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException socket && IsOutOf(socket.SocketErrorCode))
            {
                return true;
            }
        }

        return false;
    }
}
