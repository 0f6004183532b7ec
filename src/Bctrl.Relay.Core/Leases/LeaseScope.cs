namespace Bctrl.Relay.Leases;

/// <summary>What a scoped lease is limited to (docs/scope.md), as records and answers write it: <c>{"target": "…"}</c>.</summary>
internal sealed record LeaseScope(string Target);
