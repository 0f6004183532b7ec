using System.Net;
using Bctrl.Relay.Options;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// Kestrel's listeners for TCP endpoints, in place of the Sockets transport's own (registered after it, so Kestrel
/// takes this one for every IP endpoint): the same socket connections (<see cref="SocketConnectionContextFactory"/>,
/// with the Sockets transport's options), behind an accept loop that holds the node to its
/// <see cref="ConnectionBudget"/> and backs off when the system refuses descriptors (<see cref="RelayListener"/>).
/// </summary>
internal sealed class RelayListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly SocketTransportOptions _transport;
    private readonly SocketConnectionContextFactory _connections;
    private readonly ConnectionBudget _budget;
    private readonly IReadOnlySet<int> _managementPorts;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public RelayListenerFactory(
        IOptions<SocketTransportOptions> transport, ConnectionBudget budget, IOptions<RelayOptions> options, ILoggerFactory loggers, TimeProvider time)
    {
        _transport = transport.Value;
        _connections = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = _transport.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = _transport.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = _transport.MaxReadBufferSize,
                MaxWriteBufferSize = _transport.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = _transport.UnsafePreferInlineScheduling,
            },
            loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        _budget = budget;
        _managementPorts = ListenerRoles.ManagementPorts(options.Value);
        _logger = loggers.CreateLogger<RelayListener>();
        _time = time;
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = _transport.CreateBoundListenSocket(endpoint);
        try
        {
            socket.Listen(_transport.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return ValueTask.FromResult<IConnectionListener>(
            new RelayListener(socket, _connections, _budget, management: _managementPorts.Contains(port), _logger, _time));
    }

    public void Dispose() => _connections.Dispose();
}
