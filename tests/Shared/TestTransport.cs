namespace Bctrl.Relay.Testing;

/// <summary>
/// Which transport the relays a test run starts use (issue 9: every functional, fleet and end-to-end test runs on both
/// transports, and CI runs both). <c>RELAY_TEST_TRANSPORT</c> is <c>Relay</c> or <c>Sockets</c>; unset, the relay runs on
/// its default. A test that sets <c>Relay:Transport</c> itself keeps its own choice.
/// </summary>
public static class TestTransport
{
    public const string Variable = "RELAY_TEST_TRANSPORT";

    public const string SettingKey = "Relay:Transport";

    public const string Relay = "Relay";

    public const string Sockets = "Sockets";

    /// <summary>The transport the environment asks for, or null for the relay's default.</summary>
    public static string? Configured { get; } = Read();

    /// <summary>
    /// The transport a relay started without its own <c>Relay:Transport</c> runs on: <see cref="Configured"/>, else the
    /// relay's default (<c>Relay</c>, README's "Configuration").
    /// </summary>
    public static string Effective => Configured ?? Relay;

    /// <summary>Whether relays run on the relay's own transport (issue 9) rather than Kestrel's Sockets transport.</summary>
    public static bool IsRelay => Effective == Relay;

    /// <summary>Adds <c>Relay:Transport</c> from the environment to <paramref name="settings"/>, unless it names one already.</summary>
    public static void ApplyTo<TValue>(IDictionary<string, TValue> settings, IEnumerable<string>? arguments = null)
    {
        if (Configured is null || Names(settings.Keys, arguments))
        {
            return;
        }

        settings[SettingKey] = (TValue)(object)Configured;
    }

    /// <summary>Whether a setting key (<c>Relay:Transport</c>, <c>Relay__Transport</c>) or a command-line argument names the transport.</summary>
    private static bool Names(IEnumerable<string> keys, IEnumerable<string>? arguments)
        => keys.Any(IsTransportKey)
            || (arguments ?? []).Any(a => a.TrimStart('-', '/').Split('=')[0] is var key && IsTransportKey(key));

    private static bool IsTransportKey(string key)
        => string.Equals(key.Replace("__", ":", StringComparison.Ordinal), SettingKey, StringComparison.OrdinalIgnoreCase);

    private static string? Read()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        // A typo must not quietly run the default transport twice.
        return value.ToLowerInvariant() switch
        {
            "relay" => Relay,
            "sockets" => Sockets,
            _ => throw new InvalidOperationException($"{Variable} is '{value}': it must be '{Relay}' or '{Sockets}', or unset for the relay's default."),
        };
    }
}
