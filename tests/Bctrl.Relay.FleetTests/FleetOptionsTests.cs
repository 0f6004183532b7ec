using Bctrl.Relay.Options;

namespace Bctrl.Relay.FleetTests;

/// <summary>The options this part adds, in the Kestrel style: documented defaults, valid values pass, invalid ones throw.</summary>
public sealed class FleetOptionsTests
{
    private static readonly Dictionary<string, Action<RelayOptions>> Valid = new()
    {
        ["defaults"] = _ => { },
        ["single Redis"] = o => o.Redis = "127.0.0.1:6379",
        ["cluster with a password"] = o => o.Redis = "10.0.0.1:7000,10.0.0.2:7000,password=hunter2,ssl=false",
        ["empty Redis is unset"] = o => o.Redis = string.Empty,
        ["prefix with dots and colons"] = o => o.Fleet.KeyPrefix = "prod.eu:relay-1",
        ["fast confirmation"] = o =>
        {
            o.Redis = "127.0.0.1:6379";
            o.Revocations.MaxStaleness = TimeSpan.FromSeconds(2);
            o.Revocations.ConfirmInterval = TimeSpan.FromMilliseconds(250);
        },
        ["in memory, staleness below the confirm interval"] = o => o.Revocations.MaxStaleness = TimeSpan.FromMilliseconds(500),
    };

    private static readonly Dictionary<string, (Action<RelayOptions> Change, string Key)> Invalid = new()
    {
        ["unknown Redis keyword"] = (o => o.Redis = "127.0.0.1:6379,notanoption=1", "Relay:Redis"),
        ["Redis without an endpoint"] = (o => o.Redis = "password=hunter2", "Relay:Redis"),
        ["prefix with a brace"] = (o => o.Fleet.KeyPrefix = "bctrl}", "Relay:Fleet:KeyPrefix"),
        ["empty prefix"] = (o => o.Fleet.KeyPrefix = string.Empty, "Relay:Fleet:KeyPrefix"),
        ["prefix of 33 characters"] = (o => o.Fleet.KeyPrefix = new string('a', 33), "Relay:Fleet:KeyPrefix"),
        ["zero confirm interval"] = (o => o.Revocations.ConfirmInterval = TimeSpan.Zero, "Relay:Revocations:ConfirmInterval"),
        ["confirm interval not below staleness"] = (o =>
        {
            o.Redis = "127.0.0.1:6379";
            o.Revocations.ConfirmInterval = o.Revocations.MaxStaleness;
        }, "Relay:Revocations:ConfirmInterval"),
        ["node timeout below two confirmations"] = (o =>
        {
            o.Redis = "127.0.0.1:6379";
            o.Fleet.NodeTimeout = TimeSpan.FromSeconds(1.5);
        }, "Relay:Fleet:NodeTimeout"),
        ["zero node timeout"] = (o => o.Fleet.NodeTimeout = TimeSpan.Zero, "Relay:Fleet:NodeTimeout"),
    };

    public static TheoryData<string> ValidCases => [.. Valid.Keys];

    public static TheoryData<string> InvalidCases => [.. Invalid.Keys];

    [Fact(Timeout = 10_000)]
    public Task Defaults_are_the_documented_ones()
    {
        var options = new RelayOptions();
        Assert.Null(options.Redis);
        Assert.Equal("bctrl", options.Fleet.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(15), options.Fleet.NodeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Revocations.ConfirmInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Revocations.MaxStaleness);
        options.Validate();
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(ValidCases))]
    public Task Valid_values_pass(string name)
    {
        var options = new RelayOptions();
        Valid[name](options);
        options.Validate();
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(InvalidCases))]
    public Task Invalid_values_throw_naming_the_key_but_never_the_Redis_password(string name)
    {
        var options = new RelayOptions();
        var (change, key) = Invalid[name];
        change(options);
        var exception = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", exception.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    }
}
