namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// Every end-to-end test class joins this collection: one Chromium and one test site for the whole run, and the
/// classes run one after another (a collection is never parallel with itself), which keeps two cores enough.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}
