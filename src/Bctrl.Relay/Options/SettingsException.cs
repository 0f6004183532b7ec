namespace Bctrl.Relay.Options;

/// <summary>
/// A setting the relay cannot run with. Its message names the key and what the key takes, and never a secret: the
/// process prints it as its one line on stderr (docs/operations.md).
/// </summary>
internal sealed class SettingsException(string message) : InvalidOperationException(message);
