using Bctrl.Relay.Options;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.FunctionalTests.Options;

/// <summary><see cref="RelayOptions"/> in the Kestrel style: documented defaults, valid values pass, invalid ones throw naming the key.</summary>
public sealed class RelayOptionsTests
{
    [Theory]
    [InlineData(null, false, true)]
    [InlineData(null, true, false)]
    [InlineData(true, true, true)]
    [InlineData(false, false, false)]
    public void Inline_io_is_on_by_default_only_without_redis(bool? configured, bool redis, bool inEffect)
    {
        var options = new RelayOptions();
        options.Splice.InlineIo = configured;

        Assert.Equal(inEffect, options.Splice.InlineIoFor(redisConfigured: redis));
    }

    /// <summary>Base64 of 32 bytes: the shortest secret allowed.</summary>
    private static readonly string Secret32 = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    /// <summary>Base64 of 31 bytes.</summary>
    private static readonly string Secret31 = Convert.ToBase64String(Enumerable.Range(1, 31).Select(i => (byte)i).ToArray());

    private static readonly Dictionary<string, Action<RelayOptions>> ValidChanges = new()
    {
        ["all defaults"] = _ => { },
        ["ws PublicBaseUrl"] = o => o.PublicBaseUrl = "ws://relay.example:9999",
        ["wss PublicBaseUrl with a path"] = o => o.PublicBaseUrl = "wss://relay.example/edge/",
        ["16-character control key"] = o => o.ControlApiKey = "0123456789abcdef",
        ["32-byte secret"] = o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = Secret32 }),
        ["two keys"] = o =>
        {
            o.SigningKeys.Add(new SigningKeyOptions { Id = "new", Secret = Secret32 });
            o.SigningKeys.Add(new SigningKeyOptions { Id = "old", Secret = RelayServer.SigningSecret });
        },
        ["DefaultTtl equal to MaxTtl"] = o => o.Connections.DefaultTtl = o.Connections.MaxTtl,
        ["short ttls"] = o =>
        {
            o.Connections.DefaultTtl = TimeSpan.FromSeconds(1);
            o.Connections.MaxTtl = TimeSpan.FromSeconds(1);
        },
        ["zero clock skew"] = o => o.Leases.ClockSkew = TimeSpan.Zero,
        ["five-minute clock skew"] = o => o.Leases.ClockSkew = TimeSpan.FromMinutes(5),
        ["1 KiB messages"] = o => o.Limits.MaxMessageBytes = 1024,
        ["no attach limit"] = o => o.Limits.MaxAttaches = 0,
        ["one attach"] = o => o.Limits.MaxAttaches = 1,
        ["management urls"] = o => o.ManagementUrls = "http://127.0.0.1:9090;http://[::1]:9090",
        ["connections from the file limit"] = o => o.Limits.MaxConnections = 0,
        ["one connection"] = o => o.Limits.MaxConnections = 1,
        ["1 KiB discovery documents"] = o => o.Limits.MaxDiscoveryBytes = 1024,
        ["one-second idle timeout"] = o => o.Limits.IdleConnectionTimeout = TimeSpan.FromSeconds(1),
    };

    private static readonly Dictionary<string, (Action<RelayOptions> Change, string Key)> InvalidChanges = new()
    {
        ["http PublicBaseUrl"] = (o => o.PublicBaseUrl = "http://relay.example:9999", "Relay:PublicBaseUrl"),
        ["ftp PublicBaseUrl"] = (o => o.PublicBaseUrl = "ftp://relay.example", "Relay:PublicBaseUrl"),
        ["relative PublicBaseUrl"] = (o => o.PublicBaseUrl = "relay.example:9999", "Relay:PublicBaseUrl"),
        ["empty PublicBaseUrl"] = (o => o.PublicBaseUrl = string.Empty, "Relay:PublicBaseUrl"),
        ["short control key"] = (o => o.ControlApiKey = "0123456789abcde", "Relay:ControlApiKey"),
        ["empty control key"] = (o => o.ControlApiKey = string.Empty, "Relay:ControlApiKey"),
        ["31-byte secret"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = Secret31 }), "Relay:SigningKeys:0:Secret"),
        ["non-base64 secret"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = "this is not base64 but it is long enough!!" }), "Relay:SigningKeys:0:Secret"),
        ["base64url secret"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = "-_-_" + Secret32[4..] }), "Relay:SigningKeys:0:Secret"),
        ["missing secret"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k1" }), "Relay:SigningKeys:0"),
        ["missing key id"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Secret = Secret32 }), "Relay:SigningKeys:0"),
        ["bad second key"] = (o =>
        {
            o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = Secret32 });
            o.SigningKeys.Add(new SigningKeyOptions { Id = "k2", Secret = Secret31 });
        }, "Relay:SigningKeys:1:Secret"),
        ["key id with a dot"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "k.1", Secret = Secret32 }), "Relay:SigningKeys:0"),
        ["key id of 17 characters"] = (o => o.SigningKeys.Add(new SigningKeyOptions { Id = "abcdefghijklmnopq", Secret = Secret32 }), "Relay:SigningKeys:0"),
        ["duplicate key ids"] = (o =>
        {
            o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = Secret32 });
            o.SigningKeys.Add(new SigningKeyOptions { Id = "k1", Secret = RelayServer.SigningSecret });
        }, "Relay:SigningKeys"),
        ["zero MaxStaleness"] = (o => o.Revocations.MaxStaleness = TimeSpan.Zero, "Relay:Revocations:MaxStaleness"),
        ["negative MaxStaleness"] = (o => o.Revocations.MaxStaleness = TimeSpan.FromSeconds(-1), "Relay:Revocations:MaxStaleness"),
        ["zero DefaultTtl"] = (o => o.Connections.DefaultTtl = TimeSpan.Zero, "Relay:Connections:DefaultTtl"),
        ["zero MaxTtl"] = (o => o.Connections.MaxTtl = TimeSpan.Zero, "Relay:Connections:MaxTtl"),
        ["DefaultTtl above MaxTtl"] = (o => o.Connections.DefaultTtl = TimeSpan.FromHours(2), "Relay:Connections:DefaultTtl"),
        ["negative clock skew"] = (o => o.Leases.ClockSkew = TimeSpan.FromSeconds(-1), "Relay:Leases:ClockSkew"),
        ["clock skew above five minutes"] = (o => o.Leases.ClockSkew = TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1), "Relay:Leases:ClockSkew"),
        ["MaxMessageBytes below 1 KiB"] = (o => o.Limits.MaxMessageBytes = 1023, "Relay:Limits:MaxMessageBytes"),
        ["negative MaxAttaches"] = (o => o.Limits.MaxAttaches = -1, "Relay:Limits:MaxAttaches"),
        ["zero HandshakeTimeout"] = (o => o.Limits.HandshakeTimeout = TimeSpan.Zero, "Relay:Limits:HandshakeTimeout"),
        ["zero StallTimeout"] = (o => o.Limits.StallTimeout = TimeSpan.Zero, "Relay:Limits:StallTimeout"),
        ["zero CloseTimeout"] = (o => o.Limits.CloseTimeout = TimeSpan.Zero, "Relay:Limits:CloseTimeout"),
        ["zero keep-alive interval"] = (o => o.KeepAlive.Interval = TimeSpan.Zero, "Relay:KeepAlive:Interval"),
        ["zero keep-alive timeout"] = (o => o.KeepAlive.Timeout = TimeSpan.Zero, "Relay:KeepAlive:Timeout"),
        ["ManagementUrls not a URL"] = (o => o.ManagementUrls = "not a url", "Relay:ManagementUrls"),
        ["negative MaxConnections"] = (o => o.Limits.MaxConnections = -1, "Relay:Limits:MaxConnections"),
        ["MaxDiscoveryBytes below 1 KiB"] = (o => o.Limits.MaxDiscoveryBytes = 1023, "Relay:Limits:MaxDiscoveryBytes"),
        ["zero IdleConnectionTimeout"] = (o => o.Limits.IdleConnectionTimeout = TimeSpan.Zero, "Relay:Limits:IdleConnectionTimeout"),
        ["zero RequestHeadersTimeout"] = (o => o.Limits.RequestHeadersTimeout = TimeSpan.Zero, "Relay:Limits:RequestHeadersTimeout"),
        ["zero refusal summary interval"] = (o => o.Log.RefusalSummaryInterval = TimeSpan.Zero, "Relay:Log:RefusalSummaryInterval"),
    };

    public static TheoryData<string> ValidCases => [.. ValidChanges.Keys];

    public static TheoryData<string> InvalidCases => [.. InvalidChanges.Keys];

    [Fact(Timeout = 30_000)]
    public Task Defaults_are_the_documented_ones()
    {
        AssertDocumentedDefaults(new RelayOptions());
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public async Task An_empty_configuration_binds_to_the_documented_defaults()
    {
        await using var relay = await RelayServer.StartAsync();
        var options = relay.Services.GetRequiredService<IOptions<RelayOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(5), options.Revocations.MaxStaleness);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Connections.DefaultTtl);
        Assert.Equal(TimeSpan.FromHours(1), options.Connections.MaxTtl);
        Assert.Equal(268_435_456L, options.Limits.MaxMessageBytes);
        Assert.Equal(TimeSpan.FromSeconds(20), options.KeepAlive.Interval);
        Assert.Null(options.PublicBaseUrl);
        Assert.Null(options.Redis);
        Assert.Null(options.ManagementUrls);
    }

    [Fact(Timeout = 30_000)]
    public async Task Configuration_keys_of_the_contract_bind()
    {
        await using var relay = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:PublicBaseUrl"] = "wss://relay.example",
            ["Relay:Revocations:MaxStaleness"] = "00:00:07",
            ["Relay:Connections:DefaultTtl"] = "00:02:00",
            ["Relay:Connections:MaxTtl"] = "00:30:00",
            ["Relay:Limits:MaxMessageBytes"] = "1048576",
            ["Relay:KeepAlive:Interval"] = "00:00:09",
        });
        var options = relay.Services.GetRequiredService<IOptions<RelayOptions>>().Value;
        Assert.Equal("wss://relay.example", options.PublicBaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Revocations.MaxStaleness);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Connections.DefaultTtl);
        Assert.Equal(TimeSpan.FromMinutes(30), options.Connections.MaxTtl);
        Assert.Equal(1_048_576L, options.Limits.MaxMessageBytes);
        Assert.Equal(TimeSpan.FromSeconds(9), options.KeepAlive.Interval);
        Assert.Equal(RelayServer.ControlKey, options.ControlApiKey);
        Assert.Equal("test", Assert.Single(options.SigningKeys).Id);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(ValidCases))]
    public Task Valid_values_pass(string name)
    {
        var options = new RelayOptions();
        ValidChanges[name](options);
        options.Validate();
        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(InvalidCases))]
    public Task Invalid_values_throw_naming_the_key_but_no_secret(string name)
    {
        var options = new RelayOptions();
        var (change, key) = InvalidChanges[name];
        change(options);
        var exception = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
        foreach (var signingKey in options.SigningKeys)
        {
            if (!string.IsNullOrEmpty(signingKey.Secret))
            {
                Assert.DoesNotContain(signingKey.Secret, exception.Message, StringComparison.Ordinal);
            }
        }

        if (!string.IsNullOrEmpty(options.ControlApiKey))
        {
            Assert.DoesNotContain(options.ControlApiKey, exception.Message, StringComparison.Ordinal);
        }

        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Relay:Connections:DefaultTtl", "02:00:00", "Relay:Connections:DefaultTtl")]
    [InlineData("Relay:PublicBaseUrl", "http://relay.example", "Relay:PublicBaseUrl")]
    [InlineData("Relay:SigningKeys:0:Secret", "c2hvcnQtc2VjcmV0", "Relay:SigningKeys:0:Secret")]
    [InlineData("Relay:ControlApiKey", "short-key", "Relay:ControlApiKey")]
    public Task The_relay_refuses_to_build_with_an_invalid_value(string key, string value, string named)
    {
        var exception = Assert.Throws<InvalidOperationException>(() => BuildTesting(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(named, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [InlineData("k.1")]
    [InlineData("a-secret-pasted-into-the-id-field-0123456789")]
    public Task The_relay_refuses_to_build_with_a_bad_key_id_without_echoing_it(string id)
    {
        var exception = Assert.ThrowsAny<Exception>(() => BuildTesting(new Dictionary<string, string?> { ["Relay:SigningKeys:0:Id"] = id }));
        Assert.DoesNotContain(id, exception.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RelayServer.SigningSecret, exception.ToString(), StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    private static void AssertDocumentedDefaults(RelayOptions options)
    {
        Assert.Null(options.PublicBaseUrl);
        Assert.Null(options.ManagementUrls);
        Assert.Null(options.ControlApiKey);
        Assert.Empty(options.SigningKeys);
        Assert.Null(options.Redis);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Revocations.MaxStaleness);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Connections.DefaultTtl);
        Assert.Equal(TimeSpan.FromHours(1), options.Connections.MaxTtl);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Leases.ClockSkew);
        Assert.Equal(268_435_456L, options.Limits.MaxMessageBytes);
        Assert.Equal(0, options.Limits.MaxAttaches);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.HandshakeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Limits.StallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Limits.CloseTimeout);
        Assert.Equal(0, options.Limits.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.IdleConnectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.RequestHeadersTimeout);
        Assert.Equal(8L * 1024 * 1024, options.Limits.MaxDiscoveryBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Log.RefusalSummaryInterval);
        Assert.Equal(TimeSpan.FromSeconds(20), options.KeepAlive.Interval);
        Assert.Equal(TimeSpan.FromSeconds(20), options.KeepAlive.Timeout);
        Assert.Null(options.DevRuntime.Chromium);
        Assert.True(options.DevRuntime.Enabled);
        options.Validate();
    }

    /// <summary>Builds (never starts) a relay in the Testing environment with the test keys and <paramref name="overrides"/>.</summary>
    private static void BuildTesting(Dictionary<string, string?> overrides)
    {
        var app = ProductionStartupTests.Build("Testing", new Dictionary<string, string?>
        {
            ["Relay:ControlApiKey"] = RelayServer.ControlKey,
            ["Relay:SigningKeys:0:Id"] = "test",
            ["Relay:SigningKeys:0:Secret"] = RelayServer.SigningSecret,
        }.Concat(overrides).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value));
        ((IDisposable)app).Dispose();
    }
}
