namespace Bctrl.Relay.Load;

internal enum ScenarioKind
{
    /// <summary>Closed loop: each attach sends a message and waits for its echo; reported in round trips per second.</summary>
    RoundTrip,

    /// <summary>Closed loop like <see cref="RoundTrip"/> with large messages; reported in MiB/s of payload echoed.</summary>
    Echo,

    /// <summary>The runtime sends messages back to back; reported in MiB/s of payload received by the client.</summary>
    Stream,
}

/// <summary>One scenario of design §9.</summary>
internal sealed record Scenario(string Name, string Title, ScenarioKind Kind, int MessageBytes, int Attaches)
{
    public const int MiB = 1024 * 1024;

    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("rt-256b-16", "256 B round trips, 16 attaches", ScenarioKind.RoundTrip, 256, 16),
        new("rt-600b-64", "600 B round trips, 64 attaches", ScenarioKind.RoundTrip, 600, 64),
        new("echo-1mib-4", "1 MiB echo, 4 attaches", ScenarioKind.Echo, MiB, 4),
        new("stream-1mib-2", "1 MiB runtime→client, 2 attaches", ScenarioKind.Stream, MiB, 2),
    ];

    public string Unit => Kind == ScenarioKind.RoundTrip ? "msg/s" : "MiB/s";

    /// <summary>Payload bytes that crossed the relay for <paramref name="payloadBytes"/> counted: an echo crosses it twice, a streamed event once.</summary>
    public long RelayedBytes(long payloadBytes) => Kind == ScenarioKind.Stream ? payloadBytes : 2 * payloadBytes;
}
