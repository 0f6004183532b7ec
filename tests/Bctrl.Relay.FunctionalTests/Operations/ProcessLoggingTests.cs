using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Operations;

/// <summary>docs/operations.md: the standard ASP.NET variables place the listener, and <c>Logging:Console:FormatterName=json</c> makes every stdout line a JSON log entry.</summary>
public sealed class ProcessLoggingTests
{
    [Fact(Timeout = 60_000)]
    public async Task Aspnetcore_urls_moves_the_listener_and_json_logs_are_json_lines()
    {
        var port = Loopback.FreePort();
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_HTTP_PORTS"] = "1", // URLS wins, as in ASP.NET
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["Logging__Console__FormatterName"] = "json",
            ["Relay__ControlApiKey"] = RelayServer.ControlKey,
            ["Relay__SigningKeys__0__Id"] = "test",
            ["Relay__SigningKeys__0__Secret"] = RelayServer.SigningSecret,
        };
        var settings = new Dictionary<string, string>();
        TestTransport.ApplyTo(settings);
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        await using var relay = RelayCommand.Start([], environment);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                Assert.Equal(200, (int)health.StatusCode);
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !relay.HasExited)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(0, await relay.StopAsync());
        var lines = relay.Stdout.Where(l => l.Length > 0).ToArray();
        Assert.Contains(lines, l => l.Contains("Now listening on", StringComparison.Ordinal) && l.Contains($":{port}", StringComparison.Ordinal));
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            Assert.True(entry.RootElement.TryGetProperty("Category", out _), line);
            Assert.True(entry.RootElement.TryGetProperty("LogLevel", out _), line);
        }

        Assert.Empty(relay.Stderr);
    }
}
