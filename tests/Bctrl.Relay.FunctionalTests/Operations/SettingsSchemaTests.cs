using System.Net.Sockets;
using Bctrl.Relay.Hosting;
using Bctrl.Relay.Options;
using Bctrl.Relay.Testing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;

namespace Bctrl.Relay.FunctionalTests.Operations;

/// <summary>docs/operations.md: every key under <c>Relay:</c> must be a setting, and a value must convert; the line a failure becomes.</summary>
public sealed class SettingsSchemaTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("Relay:Limits:MaxAttaches", "10")]
    [InlineData("relay:limits:maxattaches", "10")]
    [InlineData("Relay:SigningKeys:0:Id", "k1")]
    [InlineData("Relay:SigningKeys:1:secret", "x")]
    [InlineData("Relay:Transport", "sockets")]
    [InlineData("Relay:Splice:InlineIo", "")]
    [InlineData("Relay:Observation:EventSampleRate", "0.5")]
    [InlineData("Relay:KeepAlive:Interval", "00:00:30")]
    [InlineData("Relay:Redis", "redis:6379,password=x")]
    [InlineData("Logging:Anything:Goes", "1")]
    public Task Settings_of_the_relay_pass(string key, string value)
    {
        SettingsSchema.Check(Section(key, value));
        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Relay:Limits:MaxAtaches", "10", "Relay:Limits:MaxAtaches is not a setting")]
    [InlineData("Relay:Limit:MaxAttaches", "10", "Relay:Limit is not a setting")]
    [InlineData("Relay:SigningKeys:0:Idd", "k1", "Relay:SigningKeys:0:Idd is not a setting")]
    [InlineData("Relay:SigningKeys:first:Id", "k1", "Relay:SigningKeys:first is not a setting")]
    [InlineData("Relay:ControlApiKey:Value", "0123456789abcdef", "Relay:ControlApiKey:Value is not a setting")]
    [InlineData("Relay:EffectiveTransport", "Relay", "Relay:EffectiveTransport is not a setting")]
    [InlineData("Relay:Limits:MaxAttaches", "ten", "Relay:Limits:MaxAttaches must be a whole number")]
    [InlineData("Relay:Limits:MaxAttaches", "99999999999", "Relay:Limits:MaxAttaches must be a whole number")]
    [InlineData("Relay:KeepAlive:Interval", "20s", "Relay:KeepAlive:Interval must be a time span")]
    [InlineData("Relay:Observation:Enabled", "yes", "Relay:Observation:Enabled must be true or false")]
    [InlineData("Relay:Transport", "epoll", "Relay:Transport must be one of Relay, Sockets")]
    public Task Unknown_keys_and_unconvertible_values_throw_naming_the_key_not_the_value(string key, string value, string message)
    {
        var exception = Assert.Throws<SettingsException>(() => SettingsSchema.Check(Section(key, value)));
        Assert.StartsWith(message, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain($"'{value}'", exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task A_typo_stops_the_relay_from_building()
    {
        var exception = Assert.Throws<SettingsException>(() => FunctionalTests.Options.ProductionStartupTests.Build("Testing", new Dictionary<string, string?>
        {
            ["Relay:ControlApiKey"] = RelayServer.ControlKey,
            ["Relay:SigningKeys:0:Id"] = "test",
            ["Relay:SigningKeys:0:Secret"] = RelayServer.SigningSecret,
            ["Relay:Connections:DefaultTTL"] = "00:01:00",
            ["Relay:Connections:MaxTtls"] = "00:01:00",
        }));
        Assert.Equal("Relay:Connections:MaxTtls is not a setting of the relay (README, \"Configuration\", lists them).", exception.Message);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [InlineData(null, null, null, RelayApp.DefaultUrl)]
    [InlineData("http://127.0.0.1:9000", "8080", null, "http://127.0.0.1:9000")]
    [InlineData(null, "8080;8081", null, "http://*:8080;http://*:8081")]
    [InlineData(null, "8080", "8443", "http://*:8080;https://*:8443")]
    public Task Listen_urls_follow_aspnet_precedence(string? urls, string? httpPorts, string? httpsPorts, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = urls,
            ["http_ports"] = httpPorts,
            ["https_ports"] = httpsPorts,
        }).Build();
        Assert.Equal(expected, RelayApp.ListenUrls(configuration));
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task A_failure_line_is_one_line_and_redacts_configured_secrets()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:ControlApiKey"] = RelayServer.ControlKey,
            ["Relay:SigningKeys:0:Secret"] = RelayServer.SigningSecret,
            ["Relay:Redis"] = "redis:6379,password=hunter2",
        }).Build();
        var bind = new IOException("Failed to bind to address http://127.0.0.1:8080: address already in use.", new AddressInUseException("in use"));
        var leaky = new SocketException(13, $"denied\nfor {RelayServer.ControlKey} and redis:6379,password=hunter2");

        Assert.Equal("cannot listen on http://127.0.0.1:8080: address already in use", RelayProcess.Describe(bind, configuration));
        var line = RelayProcess.Describe(new AggregateException(leaky), configuration);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain(RelayServer.ControlKey, line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
        Assert.StartsWith("cannot start: denied for ***", line, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    private static IConfigurationSection Section(string key, string value)
        => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build().GetSection("Relay");
}
