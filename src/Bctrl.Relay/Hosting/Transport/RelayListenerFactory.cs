using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Loops;
using Bctrl.Relay.Options;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// The relay transport's listeners for TCP endpoints (issue 9, docs/design.md §11), in place of the Sockets transport's
/// own (registered after it, so Kestrel takes this one for every IP endpoint): an accept loop that holds the node to
/// its <see cref="ConnectionBudget"/> and backs off when the system refuses descriptors (<see cref="RelayListener"/>),
/// and connections that live on the relay's I/O loops (<see cref="LoopConnection"/>). The listening socket itself
/// is made with the Sockets transport's options.
/// </summary>
internal sealed class RelayListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportOptions _transport;
    private readonly IoLoops _loops;
    private readonly ConnectionBudget _budget;
    private readonly IReadOnlySet<int> _managementPorts;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public RelayListenerFactory(
        IOptions<SocketTransportOptions> transport, IoLoops loops, ConnectionBudget budget, IOptions<RelayOptions> options, ILoggerFactory loggers, TimeProvider time)
    {
        _transport = transport.Value;
        _loops = loops;
        _budget = budget;
        _managementPorts = ListenerRoles.ManagementPorts(options.Value);
        _logger = loggers.CreateLogger<RelayListener>();
        _time = time;
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        Socket socket;
        try
        {
            socket = _transport.CreateBoundListenSocket(endpoint);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // As Kestrel's Sockets transport does: Kestrel turns this one into "Failed to bind to address …: address
            // already in use", which the relay's start-up failure line reports (docs/operations.md).
            throw new AddressInUseException(exception.Message, exception);
        }

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
            new RelayListener(socket, _loops, _budget, management: _managementPorts.Contains(port), _logger, _time));
    }
}
