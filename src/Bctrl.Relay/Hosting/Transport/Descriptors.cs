using System.Net.Sockets;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>Recognises the system refusing a descriptor, however deep a client library wrapped it.</summary>
internal static class Descriptors
{
    /// <summary><c>EMFILE</c>, <c>ENFILE</c> (too many open files) or <c>ENOBUFS</c>.</summary>
    public static bool IsOutOf(SocketError error) => error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;

    /// <summary>The same for a raw <c>errno</c> (the relay transport's own calls): <c>EMFILE</c> 24, <c>ENFILE</c> 23, <c>ENOBUFS</c> 105.</summary>
    public static bool IsOutOfErrno(int errno) => errno is 23 or 24 or 105;

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
