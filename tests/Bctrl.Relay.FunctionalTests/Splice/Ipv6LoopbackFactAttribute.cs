using System.Net;
using System.Net.Sockets;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>
/// A fact that needs the IPv6 loopback address: skipped, saying why, on a machine where <c>::1</c> cannot be bound
/// (a container whose network has IPv6 turned off, <c>net.ipv6.conf.lo.disable_ipv6=1</c>, has none), instead of
/// failing there for a reason that says nothing about the relay.
/// </summary>
public sealed class Ipv6LoopbackFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_unavailable = new(Probe);

    public Ipv6LoopbackFactAttribute()
    {
        if (s_unavailable.Value is { } reason)
        {
            Skip = reason;
        }
    }

    private static string? Probe()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return null;
        }
        catch (SocketException exception)
        {
            return $"This machine has no IPv6 loopback: binding [::1] fails with {exception.SocketErrorCode} ({exception.Message}).";
        }
    }
}
