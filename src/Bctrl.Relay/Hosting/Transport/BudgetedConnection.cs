using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// A socket connection that gives its place in the <see cref="ConnectionBudget"/> back when Kestrel disposes it, which
/// Kestrel does once for every connection it accepted, however the connection ended. Everything else is the socket
/// connection's own (its features, so the attach endpoint still reaches the transport pipes after an upgrade).
/// </summary>
internal sealed class BudgetedConnection(ConnectionContext inner, ConnectionBudget budget, bool management) : ConnectionContext
{
    private int _released;

    public override string ConnectionId
    {
        get => inner.ConnectionId;
        set => inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => inner.Items;
        set => inner.Items = value;
    }

    public override System.IO.Pipelines.IDuplexPipe Transport
    {
        get => inner.Transport;
        set => inner.Transport = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => inner.ConnectionClosed;
        set => inner.ConnectionClosed = value;
    }

    public override EndPoint? LocalEndPoint
    {
        get => inner.LocalEndPoint;
        set => inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => inner.RemoteEndPoint;
        set => inner.RemoteEndPoint = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

    public override void Abort() => inner.Abort();

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                budget.Release(management);
            }
        }
    }
}
