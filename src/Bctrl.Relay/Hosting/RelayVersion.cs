using System.Reflection;

namespace Bctrl.Relay.Hosting;

/// <summary>The relay's informational version (the SDK's, with the source commit): <c>--version</c> and <c>bctrl_relay_build_info</c>.</summary>
internal static class RelayVersion
{
    public static string Informational { get; } =
        typeof(RelayVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RelayVersion).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
