using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// The node's two multiplexers (docs/design.md §5), created once: <see cref="State"/> for the stores and the subscription, with
/// the default backlog (a control-API write made during a blip waits for the reconnect); <see cref="Side"/> for writes
/// on the side (pings, attach counts), failing fast so that nothing queues up behind an outage. Both connect with
/// <c>abortConnect=false</c>: a node starts while Redis is down and is simply not ready until it comes back.
/// </summary>
internal sealed class RedisConnections : IAsyncDisposable
{
    /// <summary>
    /// ConnectTimeout unless the configuration names one: short enough for readiness (below), long enough for a TLS
    /// handshake with a Redis in another zone.
    /// </summary>
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    public RedisConnections(string configuration)
    {
        var template = ConfigurationOptions.Parse(configuration);
        State = ConnectAsync(template, "state", BacklogPolicy.Default);
        Side = ConnectAsync(template, "side", BacklogPolicy.FailFast);
    }

    public Task<ConnectionMultiplexer> State { get; }

    public Task<ConnectionMultiplexer> Side { get; }

    public static bool IsUp(Task<ConnectionMultiplexer> multiplexer)
        => multiplexer.IsCompletedSuccessfully && multiplexer.Result.IsConnected;

    public async ValueTask DisposeAsync()
    {
        foreach (var multiplexer in (Task<ConnectionMultiplexer>[])[State, Side])
        {
            try
            {
                await (await multiplexer).DisposeAsync();
            }
            catch (Exception exception) when (exception is RedisException or ObjectDisposedException)
            {
                // Never connected, or already gone.
            }
        }
    }

    private static Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions template, string purpose, BacklogPolicy backlog)
    {
        var options = template.Clone();
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = backlog;
        options.ClientName ??= "bctrl-relay-" + purpose;

        // Readiness after an outage waits on the reconnect: retry at most a second apart (the library's default backs
        // off to 10 s, longer than the 5 s a node has to be ready again once Redis is back).
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 1000);

        // The same for a node started while Redis is down: the first connect tries once, then waits out ConnectTimeout
        // (the library's default is 5 s) before it tries again (measured with v3.4: Redis up 0.9 s after the start, the
        // node connected at 5.6 s). With a 5 s wait, a Redis back just after one began leaves the node not ready for
        // 5 s more. ToString names connectTimeout only when the configuration string set it.
        if (!template.ToString().Contains("connectTimeout=", StringComparison.Ordinal))
        {
            options.ConnectTimeout = (int)DefaultConnectTimeout.TotalMilliseconds;
        }

        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
