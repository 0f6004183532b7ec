namespace Bctrl.Relay.Load;

/// <summary>
/// Where the scenarios connect: straight to the fake runtime, or through one proxy process (a relay, nginx or HAProxy),
/// over TLS for the TLS targets (<paramref name="certificates"/>: the run's authority, which their clients trust alone).
/// </summary>
internal sealed class LoadTarget(string name, FakeRuntime runtime, IProxyProcess? proxy, LoadCertificates? certificates = null)
{
    public string Name { get; } = name;

    public IProxyProcess? Proxy { get; } = proxy;

    /// <summary>The authority a <c>wss://</c> endpoint's certificate must chain to; null for a run without TLS targets.</summary>
    public LoadCertificates? Certificates { get; } = certificates;

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
/// only acts on <c>Sockets</c>), whether it records CDP (<c>Relay:Observation:Enabled</c>, on by default in the relay) and
/// whether it listens on <c>https://</c> with the run's certificate (<see cref="Tls"/>; its leases are then <c>wss://</c>), and
/// whether its leases carry a CDP method policy (<see cref="Policy"/>: <c>noBrowserControl</c>, which every command
/// the load tool sends passes; issue 11), and whether they keep artifacts (<see cref="Artifacts"/>: <c>record.artifacts</c>,
/// so the stream scenario's screencast frames are captured, one a second per attach; docs/artifacts.md).
/// </summary>
internal sealed record RelaySetup(
    string ShortName, string Transport, bool Recording, bool InlineIo = true, string Listener = RelaySetup.RelayListener, bool Tls = false,
    bool Policy = false, bool Artifacts = false)
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
        new("tls", "Pipes", Recording: true, Tls: true),
        new("policy", "Pipes", Recording: true, Policy: true),
        new("artifacts", "Pipes", Recording: true, Artifacts: true),
    ];

    /// <summary>Every target's short name, in visiting order: <c>direct</c> first, the peers (nginx, HAProxy) last.</summary>
    public static IReadOnlyList<string> AllTargets { get; } = [Direct, .. All.Select(s => s.ShortName), .. PeerSetup.All.Select(p => p.Name)];

    /// <summary>
    /// The targets a run without <c>--targets</c> visits: all but the TLS ones (<c>relay-tls</c>, <c>nginx-tls</c>) and
    /// <c>relay-policy</c> and <c>relay-artifacts</c>, which answer issues 10's and 11's questions only and are named when wanted.
    /// </summary>
    public static IReadOnlyList<string> DefaultTargets { get; } = AllTargets.Where(t => !IsTls(t) && Find(t) is not { Policy: true } and not { Artifacts: true }).ToArray();

    public string Name => LoadReport.TargetName(ShortName);

    public string Description => $"{Listener} transport, {Transport}, recording {(Recording ? "on" : "off")}{(InlineIo ? string.Empty : ", thread-pool dispatch")}{(Tls ? ", TLS (https://, wss:// leases)" : string.Empty)}{(Policy ? ", leases with a policy (noBrowserControl)" : string.Empty)}{(Artifacts ? ", leases that keep artifacts" : string.Empty)}";

    /// <summary>Whether the target (a short name) is reached over TLS: <c>relay-tls</c> or <c>nginx-tls</c>.</summary>
    public static bool IsTls(string shortName) => Find(shortName)?.Tls == true || PeerSetup.Find(shortName)?.Tls == true;

    public static RelaySetup? Find(string shortName) => All.FirstOrDefault(s => s.ShortName == shortName);
}
