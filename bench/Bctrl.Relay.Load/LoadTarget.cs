namespace Bctrl.Relay.Load;

/// <summary>Where the scenarios connect: straight to the fake runtime, or through one proxy process (a relay, nginx or HAProxy).</summary>
internal sealed class LoadTarget(string name, FakeRuntime runtime, IProxyProcess? proxy)
{
    public string Name { get; } = name;

    public IProxyProcess? Proxy { get; } = proxy;

    public RelayProcess? Relay => Proxy as RelayProcess;

    /// <summary>
    /// The WebSocket URL for attaches: the runtime's browser socket, directly or through nginx or HAProxy, or a fresh
    /// lease's endpoint on a relay (one control-API request).
    /// </summary>
    public async Task<Uri> EndpointAsync(CancellationToken cancellationToken) => Proxy switch
    {
        RelayProcess relay => await relay.CreateLeaseAsync(cancellationToken).ConfigureAwait(false),
        PeerProcess peer => peer.Endpoint(runtime),
        _ => runtime.BrowserSocketUrl,
    };
}

/// <summary>
/// How one relay target is configured: who owns the sockets (<c>Relay:Transport</c>: <c>Relay</c>, the relay transport
/// and its I/O loops, the relay's default on Linux, or <c>Sockets</c>, Kestrel's Sockets transport with the splice on its
/// pipes; issue 9), the client transport of a splice on Kestrel's pipes (<c>Relay:Splice:ClientTransport</c>, which
/// only acts on <c>Sockets</c>) and whether it records CDP (<c>Relay:Observation:Enabled</c>, on by default in the relay).
/// </summary>
internal sealed record RelaySetup(string ShortName, string Transport, bool Recording, bool InlineIo = true, string Listener = RelaySetup.RelayListener)
{
    /// <summary><c>Relay:Transport=Relay</c>: the relay transport (issue 9).</summary>
    public const string RelayListener = "Relay";

    /// <summary><c>Relay:Transport=Sockets</c>: Kestrel's Sockets transport, the path before issue 9.</summary>
    public const string SocketsListener = "Sockets";

    /// <summary>Extra environment for the relay process (<c>--relay-env</c>), for trying a setting without a rebuild.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    public const string Direct = "direct";

    /// <summary>Every relay target, in the order a round visits them after <c>direct</c>.</summary>
    public static IReadOnlyList<RelaySetup> All { get; } =
    [
        new("pipes", "Pipes", Recording: true),
        new("norec", "Pipes", Recording: false),
        new("stream", "Stream", Recording: true),
        new("dispatch", "Pipes", Recording: true, InlineIo: false),
        new("sockets", "Pipes", Recording: true, Listener: SocketsListener),
    ];

    /// <summary>Every target's short name, in visiting order: <c>direct</c> first, the peers (nginx, HAProxy) last.</summary>
    public static IReadOnlyList<string> AllTargets { get; } = [Direct, .. All.Select(s => s.ShortName), .. PeerSetup.All.Select(p => p.Name)];

    public string Name => LoadReport.TargetName(ShortName);

    public string Description => $"{Listener} transport, {Transport}, recording {(Recording ? "on" : "off")}{(InlineIo ? string.Empty : ", thread-pool dispatch")}";

    public static RelaySetup? Find(string shortName) => All.FirstOrDefault(s => s.ShortName == shortName);
}
