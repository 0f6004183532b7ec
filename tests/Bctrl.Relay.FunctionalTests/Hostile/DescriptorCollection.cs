namespace Bctrl.Relay.FunctionalTests.Hostile;

/// <summary>
/// Tests that spend the machine's descriptors or ports in bulk (a relay driven out of descriptors, 10,000 attach
/// cycles), run alone: side by side, the cycles' thousands of closing loopback connections and a flood of 800 silent
/// ones starve each other's ports, and a connection refused for want of one says nothing about the relay.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCollection
{
    public const string Name = "Descriptors in bulk";
}
