namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// Test classes that read <c>/metrics</c> run alone, after the parallel ones. Every relay in this process names its meter
/// <c>Bctrl.Relay</c>, and an OpenTelemetry meter provider listens by name: a relay started by a test running beside
/// would add its instruments to this relay's scrape, and the end of that relay would retire them from it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics, one relay at a time";
}
