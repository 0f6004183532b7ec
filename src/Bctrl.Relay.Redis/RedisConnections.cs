using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// The node's two multiplexers (design §5), created once: <see cref="State"/> for the stores and the subscription, with
/// the default backlog (a control-API write made during a blip waits for the reconnect); <see cref="Side"/> for writes
/// on the side (pings, attach counts), failing fast so that nothing queues up behind an outage. Both connect with
/// <c>abortConnect=false</c>: a node starts while Redis is down and is simply not ready until it comes back.
/// </summary>
internal sealed class RedisConnections : IAsyncDisposable
{
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
        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
