namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>What the relay answered an attach: 101 with a client, or a refusal with its status, code and Retry-After.</summary>
public sealed record AttachResult(int Status, string? ErrorCode, string? RetryAfter, AttachClient? Client)
{
    public override string ToString() => $"{Status} {ErrorCode}";
}
