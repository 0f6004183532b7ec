using System.Text;
using System.Text.Json;
using Bctrl.Relay.Control;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Observation;

/// <summary>
/// The read side of observation (docs/design.md §6): a runtime's records as Server-Sent Events, filterable by connection and
/// record type and resumable with <c>Last-Event-ID</c>; and each attach's recording metadata by connection.
/// </summary>
internal static class EventsEndpoint
{
    private static readonly TimeSpan KeepAliveComment = TimeSpan.FromSeconds(15);

    public static void MapObservation(this RouteGroupBuilder v1)
    {
        v1.MapGet("/runtimes/{runtimeId}/events", StreamAsync)
            .WithName("streamEvents").WithSummary("A runtime's records as Server-Sent Events; each data line is one record.")
            .Produces<ObservationRecord>(StatusCodes.Status200OK, "text/event-stream")
            .Reads("connectionId", ApiInputKind.Text, "Only this connection's records.")
            .Reads("type", ApiInputKind.Text, $"Only these record types, comma-separated: {string.Join(", ", RecordTypes.All)}.")
            .Reads("lastEventId", ApiInputKind.Text, "Resume after this event id (as the Last-Event-ID header).")
            .Reads("Last-Event-ID", ApiInputKind.Text, "Resume after this event id.", inHeader: true)
            .Refuses(ApiError.InvalidQuery, ApiError.RuntimeNotFound);
        v1.MapGet("/runtimes/{runtimeId}/connections/{connectionId}/attaches", ListAttachesAsync)
            .WithName("listAttaches").WithSummary("Lists a connection's attaches with their recording metadata, oldest first.")
            .Produces<ListResponse<AttachRecord>>()
            .Paged()
            .Refuses(ApiError.ConnectionNotFound);
    }

    private static async Task StreamAsync(
        string runtimeId, HttpContext context, IRuntimeStore runtimes, IEventStore store, IHostApplicationLifetime lifetime)
    {
        // A stream ends when its reader leaves or when the relay stops (else it would hold shutdown for its whole timeout).
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var cancellationToken = ending.Token;
        var filter = Filter.From(context.Request);
        if (filter.Error is not null)
        {
            await filter.Error.WriteAsync(context);
            return;
        }

        if (await runtimes.GetAsync(runtimeId, cancellationToken) is null)
        {
            await ApiError.RuntimeNotFound.WriteAsync(context);
            return;
        }

        var lastId = context.Request.Headers["Last-Event-ID"].ToString();
        if (lastId.Length == 0)
        {
            lastId = context.Request.Query["lastEventId"].ToString();
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        var after = lastId.Length == 0 ? null : lastId;
        var text = new StringBuilder();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = await store.ReadAsync(runtimeId, after, 256, cancellationToken);
                if (batch.Count == 0)
                {
                    await store.WaitAsync(runtimeId, after, KeepAliveComment, cancellationToken);
                    if ((await store.ReadAsync(runtimeId, after, 1, cancellationToken)).Count == 0)
                    {
                        await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                        await response.Body.FlushAsync(cancellationToken);
                    }

                    continue;
                }

                text.Clear();
                foreach (var stored in batch)
                {
                    after = stored.Id;
                    if (filter.Matches(stored.Record))
                    {
                        text.Append("id: ").Append(stored.Id).Append('\n')
                            .Append("event: ").Append(stored.Record.Type).Append('\n')
                            .Append("data: ").Append(JsonSerializer.Serialize(stored.Record, ObservationJson.Default.ObservationRecord)).Append("\n\n");
                    }
                }

                if (text.Length > 0)
                {
                    await response.WriteAsync(text.ToString(), cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The reader went away; it resumes with Last-Event-ID.
        }
    }

    private static async Task<IResult> ListAttachesAsync(
        string runtimeId, string connectionId, HttpContext context, IConnectionStore connections, IAttachRecordStore attaches, CancellationToken cancellationToken)
    {
        if (Pagination.TryRead(context.Request, PageOrders.Attaches, out var page) is { } invalid)
        {
            return invalid.ToResult();
        }

        if (!Guid.TryParse(connectionId, out var id) || await connections.GetAsync(id, cancellationToken) is not { } record || record.RuntimeId != runtimeId)
        {
            return ApiError.ConnectionNotFound.ToResult();
        }

        var (items, next) = page.Take(await attaches.ListAsync(id, cancellationToken));
        return Results.Json(new ListResponse<AttachRecord>(items, next), RelayJsonContext.Default.ListResponseAttachRecord);
    }

    private sealed record Filter(Guid? ConnectionId, HashSet<string>? Types, ApiError? Error)
    {
        public static Filter From(HttpRequest request)
        {
            Guid? connection = null;
            var connectionText = request.Query["connectionId"].ToString();
            if (connectionText.Length > 0)
            {
                if (!Guid.TryParse(connectionText, out var parsed))
                {
                    return new Filter(null, null, ApiError.InvalidQuery.With("connectionId must be a connection id."));
                }

                connection = parsed;
            }

            HashSet<string>? types = null;
            var typeText = request.Query["type"].ToString();
            if (typeText.Length > 0)
            {
                types = typeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                if (types.Any(t => !RecordTypes.All.Contains(t)))
                {
                    return new Filter(null, null, ApiError.InvalidQuery.With($"type must be among {string.Join(", ", RecordTypes.All)}."));
                }
            }

            return new Filter(connection, types, null);
        }

        public bool Matches(ObservationRecord record)
            => (ConnectionId is null || record.ConnectionId == ConnectionId) && (Types is null || Types.Contains(record.Type));
    }
}
