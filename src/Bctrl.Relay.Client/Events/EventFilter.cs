namespace Bctrl.Relay.Client;

/// <summary>Which records of a runtime's event stream to read, from where, and how to ride out a dropped stream.</summary>
public sealed class EventFilter
{
    /// <summary>Record types to keep (<c>attach.opened</c>, <c>cdp.command</c>, …); null or empty for all.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Only the records of this connection; null for all of the runtime's.</summary>
    public Guid? ConnectionId { get; init; }

    /// <summary>Start after this record id (a <see cref="RelayEvent.Id"/>); null to read from the oldest record kept.</summary>
    public string? After { get; init; }

    /// <summary>How long to wait before reconnecting after the stream drops. Default 1 second.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many reconnects in a row may fail before the stream gives up with the last error. Default 10.</summary>
    public int MaxReconnectAttempts { get; init; } = 10;

    /// <summary>A stream that sends nothing for this long is taken as dropped; the relay sends a keep-alive comment
    /// every 15 seconds. Default 60 seconds.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
