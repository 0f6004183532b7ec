namespace Bctrl.Relay.Load;

internal enum ScenarioKind
{
    /// <summary>Closed loop: each attach sends a message and waits for its echo; reported in round trips per second.</summary>
    RoundTrip,

    /// <summary>Closed loop like <see cref="RoundTrip"/> with large messages; reported in MiB/s of payload echoed.</summary>
    Echo,

    /// <summary>The runtime sends messages back to back; reported in MiB/s of payload received by the client.</summary>
    Stream,

    /// <summary>
    /// Closed loop of whole attaches, several in parallel: a fresh endpoint (for a relay, a new lease from its control
    /// API), connect, one small round trip, close handshake; reported in attaches per second.
    /// </summary>
    AttachRate,

    /// <summary>
    /// Many attaches connected (each after one small round trip) and held open; reported as the growth of the proxy's
    /// resident memory per attach, in KiB (lower is better). No figure for direct.
    /// </summary>
    Idle,
}

/// <summary>One scenario of docs/design.md §9.</summary>
internal sealed record Scenario(string Name, string Title, ScenarioKind Kind, int MessageBytes, int Attaches)
{
    public const int MiB = 1024 * 1024;

    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("rt-256b-16", "256 B round trips, 16 attaches", ScenarioKind.RoundTrip, 256, 16),
        new("rt-600b-64", "600 B round trips, 64 attaches", ScenarioKind.RoundTrip, 600, 64),
        new("echo-1mib-4", "1 MiB echo, 4 attaches", ScenarioKind.Echo, MiB, 4),
        new("stream-1mib-2", "1 MiB runtime→client, 2 attaches", ScenarioKind.Stream, MiB, 2),
        new("attach-8", "attach rate, 8 in parallel", ScenarioKind.AttachRate, SmallMessageBytes, 8),
        Idle(FullIdleAttaches),
        Idle(ManyIdleAttaches, ManyIdleName),
    ];

    /// <summary>The message of an attach-rate or idle attach's one round trip.</summary>
    public const int SmallMessageBytes = 64;

    public const int FullIdleAttaches = 4000;

    public const int QuickIdleAttaches = 200;

    /// <summary>The second idle scenario: memory per attach where a node is full (issue 9), not where it starts.</summary>
    public const string ManyIdleName = "idle-20k";

    public const int ManyIdleAttaches = 20_000;

    /// <summary><see cref="ManyIdleName"/> under <c>--quick</c>, when named in <c>--scenarios</c> (it is left out otherwise).</summary>
    public const int QuickManyIdleAttaches = 400;

    public string Unit => Kind switch
    {
        ScenarioKind.RoundTrip => "msg/s",
        ScenarioKind.AttachRate => "att/s",
        ScenarioKind.Idle => "KiB/att",
        _ => "MiB/s",
    };

    /// <summary>Higher is better for every scenario but idle memory.</summary>
    public bool LowerIsBetter => Kind == ScenarioKind.Idle;

    /// <summary>Scenarios whose bytes are their point: CPU per GB is reported for these.</summary>
    public bool IsThroughput => Kind is ScenarioKind.RoundTrip or ScenarioKind.Echo or ScenarioKind.Stream;

    public static Scenario Idle(int attaches, string name = "idle") => new(name, $"idle memory, {attaches:#,0} attaches", ScenarioKind.Idle, SmallMessageBytes, attaches);

    /// <summary>Descriptors this tool holds for an idle scenario: the client's end and the fake runtime's end of every attach, and some to spare.</summary>
    public long FilesNeeded => Kind == ScenarioKind.Idle ? (2L * Attaches) + 1000 : 0;

    /// <summary>Payload bytes that crossed the relay for <paramref name="payloadBytes"/> counted: an echo crosses it twice, a streamed event once.</summary>
    public long RelayedBytes(long payloadBytes) => Kind == ScenarioKind.Stream ? payloadBytes : 2 * payloadBytes;
}
