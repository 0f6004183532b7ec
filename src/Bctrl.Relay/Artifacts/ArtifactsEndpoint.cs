using System.Text;
using Bctrl.Relay.Control;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// A runtime's artifacts (docs/artifacts.md): the list, with the connection, attach and command each came from, and
/// each one's bytes. The bytes are the page's or the download's, so hostile: they are served as an attachment that no
/// browser runs (<c>nosniff</c>, a sandboxing CSP).
/// </summary>
internal static class ArtifactsEndpoint
{
    public static void MapArtifacts(this RouteGroupBuilder v1)
    {
        v1.MapGet("/runtimes/{runtimeId}/artifacts", ListAsync)
            .WithName("listArtifacts").WithSummary("Lists a runtime's artifacts, oldest first.")
            .Produces<ListResponse<ArtifactRecord>>()
            .Reads("connectionId", ApiInputKind.Text, "Only this connection's artifacts.")
            .Reads("kind", ApiInputKind.Text, $"Only artifacts of this kind: {string.Join(", ", ArtifactKinds.All)}.")
            .Paged()
            .Refuses(ApiError.InvalidQuery, ApiError.RuntimeNotFound);
        v1.MapGet("/runtimes/{runtimeId}/artifacts/{artifactId}", GetAsync)
            .WithName("getArtifact").WithSummary("One artifact's bytes, with its content type.")
            .Produces<byte[]>(StatusCodes.Status200OK, "application/octet-stream", "image/png", "image/jpeg", "image/webp", "application/pdf")
            .Refuses(ApiError.ArtifactNotFound);
    }

    private static async Task<IResult> ListAsync(
        string runtimeId, HttpContext context, IRuntimeStore runtimes, IArtifactStore store, CancellationToken cancellationToken)
    {
        if (Pagination.TryRead(context.Request, PageOrders.Artifacts, out var page) is { } invalid)
        {
            return invalid.ToResult();
        }

        Guid? connection = null;
        var connectionText = context.Request.Query["connectionId"].ToString();
        if (connectionText.Length > 0)
        {
            if (!Guid.TryParse(connectionText, out var parsed))
            {
                return ApiError.InvalidQuery.With("connectionId must be a connection id.").ToResult();
            }

            connection = parsed;
        }

        var kind = context.Request.Query["kind"].ToString();
        if (kind.Length > 0 && !ArtifactKinds.All.Contains(kind))
        {
            return ApiError.InvalidQuery.With($"kind must be one of {string.Join(", ", ArtifactKinds.All)}.").ToResult();
        }

        if (!Identifiers.IsValidRuntimeId(runtimeId))
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        var all = await store.ListAsync(runtimeId, cancellationToken);
        if (all.Count == 0 && await runtimes.GetAsync(runtimeId, cancellationToken) is null)
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        var matching = all.Where(a => (connection is null || a.ConnectionId == connection) && (kind.Length == 0 || a.Kind == kind)).ToList();
        var (items, next) = page.Take(matching);
        return Results.Json(new ListResponse<ArtifactRecord>(items, next), RelayJsonContext.Default.ListResponseArtifactRecord);
    }

    private static async Task<IResult> GetAsync(string runtimeId, string artifactId, HttpContext context, IArtifactStore store, CancellationToken cancellationToken)
    {
        // Both ids become part of a store key or a file name: only the shapes the relay gives out are looked up.
        if (!Identifiers.IsValidRuntimeId(runtimeId) || artifactId.Length != 32 || artifactId.AsSpan().ContainsAnyExcept("0123456789abcdef")
            || await store.GetAsync(runtimeId, artifactId, cancellationToken) is not { } artifact)
        {
            return ApiError.ArtifactNotFound.ToResult();
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
        headers.CacheControl = "private, max-age=3600";
        headers.ContentDisposition = "attachment; filename=\"" + FileName(artifact.Record) + "\"";
        return Results.Bytes(artifact.Content, artifact.Record.ContentType);
    }

    /// <summary>A download's suggested name cut to safe ASCII, or the kind and id with the type's extension.</summary>
    private static string FileName(ArtifactRecord record)
    {
        if (record.Name is { Length: > 0 } name)
        {
            var safe = new StringBuilder(Math.Min(name.Length, 128));
            foreach (var c in name.AsSpan(0, Math.Min(name.Length, 128)))
            {
                safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
            }

            return safe.ToString();
        }

        var extension = record.ContentType switch
        {
            "image/png" => ".png",
            "image/jpeg" => ".jpg",
            "image/webp" => ".webp",
            "application/pdf" => ".pdf",
            _ => ".bin",
        };
        return record.Kind + "-" + record.Id + extension;
    }
}
