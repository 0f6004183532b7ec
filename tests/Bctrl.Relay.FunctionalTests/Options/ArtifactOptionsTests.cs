using Bctrl.Relay.Options;

namespace Bctrl.Relay.FunctionalTests.Options;

/// <summary>
/// <see cref="ArtifactOptions"/>, the <c>Relay:Artifacts</c> section (docs/artifacts.md), in the Kestrel style: documented
/// defaults, valid values pass, invalid ones throw naming the key.
/// </summary>
public sealed class ArtifactOptionsTests
{
    private const int MiB = 1024 * 1024;

    // An absolute path on any system, never touched: Validate only reads its shape.
    private static readonly string Absolute = Path.Combine(Path.GetTempPath(), "relay-downloads");

    private static readonly Dictionary<string, Action<ArtifactOptions>> ValidChanges = new()
    {
        ["all defaults"] = _ => { },
        ["1 KiB MaxBytes"] = o => o.MaxBytes = 1024,
        ["256 MiB MaxBytes with room for it"] = o =>
        {
            o.MaxBytes = 256 * MiB;
            o.QueueBytes = 256 * MiB;
            o.MemoryBytes = 256 * MiB;
        },
        ["QueueBytes equal to MaxBytes"] = o => o.QueueBytes = o.MaxBytes,
        ["MemoryBytes equal to MaxBytes"] = o => o.MemoryBytes = o.MaxBytes,
        ["no screencast frames"] = o => o.ScreencastFrameSeconds = 0,
        ["a screencast frame an hour"] = o => o.ScreencastFrameSeconds = 3600,
        ["four screencast frames a second"] = o => o.ScreencastFrameSeconds = 0.25,
        ["one per runtime"] = o => o.PerRuntime = 1,
        ["100000 per runtime"] = o => o.PerRuntime = 100_000,
        ["one-second retention"] = o => o.Retention = TimeSpan.FromSeconds(1),
        ["Memory store"] = o => o.Store = ArtifactStoreKind.Memory,
        ["Directory store with its directory"] = o =>
        {
            o.Store = ArtifactStoreKind.Directory;
            o.Directory = Absolute;
        },
        ["absolute download directories"] = o => o.DownloadDirectories.AddRange([Absolute, Path.Combine(Absolute, "second")]),
    };

    private static readonly Dictionary<string, (Action<ArtifactOptions> Change, string Key)> InvalidChanges = new()
    {
        ["MaxBytes below 1 KiB"] = (o => o.MaxBytes = 1023, "Relay:Artifacts:MaxBytes"),
        ["zero MaxBytes"] = (o => o.MaxBytes = 0, "Relay:Artifacts:MaxBytes"),
        ["negative MaxBytes"] = (o => o.MaxBytes = -1, "Relay:Artifacts:MaxBytes"),
        ["MaxBytes above 256 MiB"] = (o =>
        {
            o.MaxBytes = 256 * MiB + 1;
            o.QueueBytes = long.MaxValue;
            o.MemoryBytes = long.MaxValue;
        }, "Relay:Artifacts:MaxBytes"),
        ["QueueBytes below MaxBytes"] = (o => o.QueueBytes = o.MaxBytes - 1L, "Relay:Artifacts:QueueBytes"),
        ["negative ScreencastFrameSeconds"] = (o => o.ScreencastFrameSeconds = -1, "Relay:Artifacts:ScreencastFrameSeconds"),
        ["NaN ScreencastFrameSeconds"] = (o => o.ScreencastFrameSeconds = double.NaN, "Relay:Artifacts:ScreencastFrameSeconds"),
        ["infinite ScreencastFrameSeconds"] = (o => o.ScreencastFrameSeconds = double.PositiveInfinity, "Relay:Artifacts:ScreencastFrameSeconds"),
        ["ScreencastFrameSeconds above an hour"] = (o => o.ScreencastFrameSeconds = 3600.5, "Relay:Artifacts:ScreencastFrameSeconds"),
        ["zero PerRuntime"] = (o => o.PerRuntime = 0, "Relay:Artifacts:PerRuntime"),
        ["PerRuntime above 100000"] = (o => o.PerRuntime = 100_001, "Relay:Artifacts:PerRuntime"),
        ["MemoryBytes below MaxBytes"] = (o => o.MemoryBytes = o.MaxBytes - 1L, "Relay:Artifacts:MemoryBytes"),
        ["zero Retention"] = (o => o.Retention = TimeSpan.Zero, "Relay:Artifacts:Retention"),
        ["negative Retention"] = (o => o.Retention = TimeSpan.FromSeconds(-1), "Relay:Artifacts:Retention"),
        ["Directory store without a directory"] = (o => o.Store = ArtifactStoreKind.Directory, "Relay:Artifacts:Directory"),
        ["Directory store with a blank directory"] = (o =>
        {
            o.Store = ArtifactStoreKind.Directory;
            o.Directory = "  ";
        }, "Relay:Artifacts:Directory"),
        ["relative download directory"] = (o => o.DownloadDirectories.Add("downloads"), "Relay:Artifacts:DownloadDirectories"),
        ["dot-relative download directory"] = (o => o.DownloadDirectories.Add(Path.Combine(".", "downloads")), "Relay:Artifacts:DownloadDirectories"),
        ["empty download directory"] = (o => o.DownloadDirectories.Add(string.Empty), "Relay:Artifacts:DownloadDirectories"),
        ["a relative one after an absolute one"] = (o => o.DownloadDirectories.AddRange([Absolute, "downloads"]), "Relay:Artifacts:DownloadDirectories"),
    };

    public static TheoryData<string> ValidCases => [.. ValidChanges.Keys];

    public static TheoryData<string> InvalidCases => [.. InvalidChanges.Keys];

    [Fact]
    public void Defaults_are_the_documented_ones_and_valid()
    {
        var options = new ArtifactOptions();

        Assert.Equal(ArtifactStoreKind.Auto, options.Store);
        Assert.Null(options.Directory);
        Assert.Equal(16 * MiB, options.MaxBytes);
        Assert.Equal(64L * MiB, options.QueueBytes);
        Assert.Equal(1, options.ScreencastFrameSeconds);
        Assert.Equal(1000, options.PerRuntime);
        Assert.Equal(256L * MiB, options.MemoryBytes);
        Assert.Equal(TimeSpan.FromHours(24), options.Retention);
        Assert.Empty(options.DownloadDirectories);
        options.Validate();
        Assert.Equal(new(16 * MiB, TimeSpan.FromSeconds(1)), options.ToSettings());
    }

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void Valid_values_pass(string name)
    {
        var options = new ArtifactOptions();
        ValidChanges[name](options);
        options.Validate();
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Invalid_values_throw_naming_the_key(string name)
    {
        var options = new ArtifactOptions();
        var (change, key) = InvalidChanges[name];
        change(options);

        var exception = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_relay_s_options_validate_their_artifacts_section()
    {
        var options = new RelayOptions();
        options.Artifacts.PerRuntime = 0;

        Assert.Contains("Relay:Artifacts:PerRuntime", Assert.Throws<InvalidOperationException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_capture_s_settings_follow_the_section()
    {
        var options = new ArtifactOptions { MaxBytes = 4096, ScreencastFrameSeconds = 0.5 };

        Assert.Equal(new(4096, TimeSpan.FromMilliseconds(500)), options.ToSettings());
    }
}
