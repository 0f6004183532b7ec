namespace Bctrl.Relay.State;

internal readonly record struct AttachCounts(long Live, long Total);
