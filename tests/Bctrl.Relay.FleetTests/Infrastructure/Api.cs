using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>Control-API reads the fleet tests need.</summary>
internal static class Api
{
    public static async Task<(long Live, long Total)> AttachCountsAsync(RelayServer relay, Guid connectionId)
    {
        using var response = await relay.Http.GetAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{connectionId}");
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var attaches = json.RootElement.GetProperty("attaches");
        return (attaches.GetProperty("live").GetInt64(), attaches.GetProperty("total").GetInt64());
    }

    public static async Task<string> StateAsync(RelayServer relay, Guid connectionId)
    {
        using var response = await relay.Http.GetAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{connectionId}");
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("state").GetString()!;
    }
}
