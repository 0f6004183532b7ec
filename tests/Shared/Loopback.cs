using System.Net;
using System.Net.Sockets;

namespace Bctrl.Relay.Testing;

/// <summary>The loopback address tests bind to.</summary>
public static class Loopback
{
    /// <summary>A port on 127.0.0.1 nothing listens on right now (for a server started in another process).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
