using System.Text.Json.Serialization;

namespace Bctrl.Relay.Client;

/// <summary>
/// One record of a runtime's event stream (README, "Observation"): an attach opening or closing, or a CDP command,
/// result or event passing through it. Never a token; CDP parameters only when the relay stores them, redacted.
/// </summary>
public sealed record RelayEvent
{
    /// <summary>The stream's id of this record: resume after it with <see cref="EventFilter.After"/>.</summary>
    [JsonIgnore]
    public string Id { get; init; } = "";

    /// <summary><c>attach.opened</c>, <c>attach.closed</c>, <c>cdp.command</c>, <c>cdp.result</c> or <c>cdp.event</c>.</summary>
    public string Type { get; init; } = "";

    /// <summary>When the relay saw it.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The runtime.</summary>
    public string RuntimeId { get; init; } = "";

    /// <summary>The connection (lease) of the attach.</summary>
    public Guid ConnectionId { get; init; }

    /// <summary>The attach's number on its relay node.</summary>
    public long AttachId { get; init; }

    /// <summary>The CDP method of a command or event; of a result, the method of the command it answers.</summary>
    public string? Method { get; init; }

    /// <summary>The CDP message id of a command or result (the JSON field <c>id</c> of the record).</summary>
    [JsonPropertyName("id")]
    public long? CommandId { get; init; }

    /// <summary>The CDP session (flattened target), if any.</summary>
    public string? SessionId { get; init; }

    /// <summary>Payload bytes of the message.</summary>
    public long? Size { get; init; }

    /// <summary>Command round trip, on a result whose command was seen.</summary>
    public double? LatencyMs { get; init; }

    /// <summary>True on a result that is a CDP error.</summary>
    public bool? Error { get; init; }

    /// <summary>The command's parameters as JSON, redacted; only when the relay stores parameters.</summary>
    public string? Params { get; init; }

    /// <summary>The recording metadata, on <c>attach.opened</c> and <c>attach.closed</c>.</summary>
    public AttachRecord? Attach { get; init; }
}
