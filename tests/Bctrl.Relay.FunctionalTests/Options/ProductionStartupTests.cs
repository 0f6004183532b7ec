using Bctrl.Relay.Hosting;
using Bctrl.Relay.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.FunctionalTests.Options;

/// <summary>docs/design.md §8: outside Production missing secrets are generated; Production refuses to start without them.</summary>
public sealed class ProductionStartupTests
{
    [Fact(Timeout = 30_000)]
    public Task Production_without_keys_refuses_to_start_naming_both()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => Build("Production", []));
        Assert.Contains("Relay:ControlApiKey", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Relay:SigningKeys", exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task Production_without_a_signing_key_refuses_naming_only_it()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => Build("Production", new Dictionary<string, string?>
        {
            ["Relay:ControlApiKey"] = RelayServer.ControlKey,
        }));
        Assert.Contains("Relay:SigningKeys", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Relay:ControlApiKey", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RelayServer.ControlKey, exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task Production_without_a_control_key_refuses_naming_only_it()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => Build("Production", new Dictionary<string, string?>
        {
            ["Relay:SigningKeys:0:Id"] = "prod",
            ["Relay:SigningKeys:0:Secret"] = RelayServer.SigningSecret,
        }));
        Assert.Contains("Relay:ControlApiKey", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Relay:SigningKeys", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RelayServer.SigningSecret, exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public async Task Production_with_both_keys_starts()
    {
        var app = Build("Production", new Dictionary<string, string?>
        {
            ["Relay:ControlApiKey"] = RelayServer.ControlKey,
            ["Relay:SigningKeys:0:Id"] = "prod",
            ["Relay:SigningKeys:0:Secret"] = RelayServer.SigningSecret,
        });
        await using (app)
        {
            await app.StartAsync();
            await app.StopAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Outside_Production_missing_keys_are_generated()
    {
        var app = Build("Staging", []);
        await using (app)
        {
            await app.StartAsync();
            await app.StopAsync();
        }
    }

    /// <summary>
    /// Builds (does not start) the relay for <paramref name="environment"/> on 127.0.0.1:0 with only <paramref name="settings"/>
    /// (and the transport <see cref="TestTransport"/> names).
    /// </summary>
    internal static WebApplication Build(string environment, Dictionary<string, string?> settings)
        => RelayApp.Build(["--urls", "http://127.0.0.1:0", "--environment", environment], builder =>
        {
            var values = new Dictionary<string, string?>(settings) { ["Relay:DevRuntime:Enabled"] = "false" };
            TestTransport.ApplyTo(values);
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
        });
}
