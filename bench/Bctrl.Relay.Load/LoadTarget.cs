namespace Bctrl.Relay.Load;

/// <summary>Where the scenarios connect: straight to the fake runtime, or through one relay process.</summary>
internal sealed class LoadTarget(string name, FakeRuntime runtime, RelayProcess? relay)
{
    public string Name { get; } = name;

    public RelayProcess? Relay { get; } = relay;

    /// <summary>The WebSocket URL for one run's attaches: the runtime's browser socket, or a fresh lease's endpoint.</summary>
    public async Task<Uri> EndpointAsync(CancellationToken cancellationToken)
        => Relay is null ? runtime.BrowserSocketUrl : await Relay.CreateLeaseAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// How one relay target is configured: its client transport (<c>Relay:Splice:ClientTransport</c>) and whether it
/// records CDP (<c>Relay:Observation:Enabled</c>, on by default in the relay).
/// </summary>
internal sealed record RelaySetup(string ShortName, string Transport, bool Recording)
{
    public const string Direct = "direct";

    /// <summary>Every relay target, in the order a round visits them after <c>direct</c>.</summary>
    public static IReadOnlyList<RelaySetup> All { get; } =
    [
        new("pipes", "Pipes", Recording: true),
        new("norec", "Pipes", Recording: false),
        new("stream", "Stream", Recording: true),
    ];

    /// <summary>Every target's short name, in visiting order: <c>direct</c> first.</summary>
    public static IReadOnlyList<string> AllTargets { get; } = [Direct, .. All.Select(s => s.ShortName)];

    public string Name => LoadReport.TargetName(ShortName);

    public string Description => $"{Transport}, recording {(Recording ? "on" : "off")}";

    public static RelaySetup? Find(string shortName) => All.FirstOrDefault(s => s.ShortName == shortName);
}
