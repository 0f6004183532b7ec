namespace Bctrl.Relay.Client.Http;

/// <summary>One page of a list: <c>{"data": [...], "nextCursor": "..."}</c>, the cursor absent on the last page.</summary>
internal sealed record Page<T>(IReadOnlyList<T>? Data, string? NextCursor);

internal sealed record ErrorBody(ErrorDetail? Error);

internal sealed record ErrorDetail(string? Code, string? Message);

internal sealed record PutRuntimeBody(string CdpUrl);

internal sealed record CreateConnectionBody(
    string Protocol, long? TtlSeconds, ConnectionScope? Scope = null, ConnectionPolicy? Policy = null, bool? Interactive = null,
    ConnectionQuotas? Quotas = null, ConnectionRecording? Record = null);
