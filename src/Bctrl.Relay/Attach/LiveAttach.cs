using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Attach;

/// <summary>A live attach as the registry and heartbeat see it.</summary>
internal sealed record LiveAttach(long Id, Guid ConnectionId, string RuntimeId, ISplice Splice, DateTimeOffset StartedAt);
