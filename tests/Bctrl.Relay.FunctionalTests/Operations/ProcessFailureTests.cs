using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Operations;

/// <summary>
/// docs/operations.md: a relay that cannot start writes one line on stderr naming the key or the cause, never a stack
/// trace nor a secret, and exits with 1. Each case is the built relay run as a process.
/// </summary>
public sealed class ProcessFailureTests
{
    private static readonly Dictionary<string, string?> TestKeys = new()
    {
        ["Relay__ControlApiKey"] = RelayServer.ControlKey,
        ["Relay__SigningKeys__0__Id"] = "test",
        ["Relay__SigningKeys__0__Secret"] = RelayServer.SigningSecret,
    };

    [Theory(Timeout = 30_000)]
    [InlineData("--Relay:Limits:MaxAttaches=-3", "bctrl-relay: Relay:Limits:MaxAttaches must be 0 (no limit) or more (got -3).")]
    [InlineData("--Relay:Limits:MaxAtaches=3", "bctrl-relay: Relay:Limits:MaxAtaches is not a setting of the relay")]
    public async Task A_bad_or_unknown_setting_is_one_line_naming_the_key_and_exit_code_1(string setting, string line)
    {
        var (code, stdout, stderr) = await RelayCommand.RunAsync(["--urls", "http://127.0.0.1:0", "--environment", "Testing", setting], TestKeys);

        AssertOneLineFailure(code, stdout, stderr, line);
    }

    [Fact(Timeout = 30_000)]
    public async Task Production_without_a_signing_key_is_one_line_naming_it_without_the_control_key()
    {
        var (code, stdout, stderr) = await RelayCommand.RunAsync(
            ["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["Relay__ControlApiKey"] = RelayServer.ControlKey, ["ASPNETCORE_ENVIRONMENT"] = "Production" });

        AssertOneLineFailure(code, stdout, stderr, "bctrl-relay: In Production the relay needs Relay:SigningKeys configured");
        Assert.DoesNotContain(RelayServer.ControlKey, string.Join('\n', stderr.Concat(stdout)), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_port_in_use_is_one_line_naming_the_address()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndPoint!).Port}";
        var settings = new Dictionary<string, string>();
        TestTransport.ApplyTo(settings);

        var (code, stdout, stderr) = await RelayCommand.RunAsync(
            ["--urls", url, "--environment", "Testing", .. settings.Select(s => $"--{s.Key}={s.Value}")], TestKeys);

        AssertOneLineFailure(code, stdout, stderr, $"bctrl-relay: cannot listen on {url}: address already in use");
    }

    [Fact(Timeout = 30_000)]
    public async Task Help_and_version_answer_and_exit_0_without_starting()
    {
        var help = await RelayCommand.RunAsync(["--help"]);
        var version = await RelayCommand.RunAsync(["--version", "--Relay:Limits:MaxAttaches=-3"]);

        Assert.Equal(0, help.ExitCode);
        Assert.Empty(help.Stderr);
        Assert.Contains(help.Stdout, l => l.Contains("Usage:", StringComparison.Ordinal));
        Assert.Contains(help.Stdout, l => l.Contains("ASPNETCORE_URLS", StringComparison.Ordinal));
        Assert.Contains(help.Stdout, l => l.Contains("docs/operations.md", StringComparison.Ordinal));
        Assert.DoesNotContain(help.Stdout, l => l.Contains("listening", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, version.ExitCode);
        Assert.Empty(version.Stderr);
        Assert.Equal(Bctrl.Relay.Hosting.RelayVersion.Informational, Assert.Single(version.Stdout));
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout[0]);
    }

    private static void AssertOneLineFailure(int code, IReadOnlyList<string> stdout, IReadOnlyList<string> stderr, string line)
    {
        var all = string.Join('\n', stdout.Concat(stderr));
        Assert.True(code == 1, $"exit code {code}:\n{all}");
        Assert.StartsWith(line, Assert.Single(stderr), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", all, StringComparison.Ordinal);
        Assert.DoesNotContain(RelayServer.SigningSecret, all, StringComparison.Ordinal);
    }
}
