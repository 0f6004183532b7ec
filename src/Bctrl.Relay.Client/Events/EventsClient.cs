using System.Runtime.CompilerServices;
using System.Text;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>A runtime's records as they happen (<c>GET /v1/runtimes/{id}/events</c>, Server-Sent Events).</summary>
public sealed class EventsClient
{
    private readonly RelayHttp _http;
    private readonly string _path;

    internal EventsClient(RelayHttp http, string runtimeId)
    {
        _http = http;
        _path = RuntimesClient.Path(runtimeId) + "/events";
    }

    /// <summary>
    /// The runtime's records in order, from <see cref="EventFilter.After"/> (or the oldest kept) on, until
    /// <paramref name="cancellationToken"/> fires. When the stream drops, it reconnects with <c>Last-Event-ID</c> set to
    /// the last record yielded, so no record is missed or repeated; after
    /// <see cref="EventFilter.MaxReconnectAttempts"/> failed reconnects in a row it throws the last error. A refusal
    /// (404 <c>runtime_not_found</c>, 400 <c>invalid_query</c>, 401) throws at once.
    /// </summary>
    public async IAsyncEnumerable<RelayEvent> StreamAsync(EventFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        filter ??= new EventFilter();
        var stream = new EventStream(_http, Query(filter), filter);
        try
        {
            while (true)
            {
                yield return await stream.NextAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            stream.Dispose();
        }
    }

    private string Query(EventFilter filter)
    {
        var query = new StringBuilder(_path);
        var separator = '?';
        if (filter.ConnectionId is { } connectionId)
        {
            query.Append(separator).Append("connectionId=").Append(connectionId.ToString("D"));
            separator = '&';
        }

        if (filter.Types is { Count: > 0 } types)
        {
            query.Append(separator).Append("type=").Append(Uri.EscapeDataString(string.Join(',', types)));
        }

        return query.ToString();
    }
}
