namespace Bctrl.Relay.Cli;

/// <summary>A command line the CLI refuses before calling the relay (a missing key, an id that is not one).</summary>
internal sealed class CliException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
