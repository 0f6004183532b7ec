namespace Bctrl.Relay.Control;

/// <summary>How endpoints declare, for the OpenAPI document (docs/api.md), what they refuse and read by hand.</summary>
internal static class ApiMetadataExtensions
{
    /// <summary>Declares the catalogue entries the endpoints may answer with, each status with the error body.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder builder, params ApiError[] errors)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new ApiErrorsMetadata(errors));
        foreach (var status in errors.Select(e => e.Status).Distinct())
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorBody), ["application/json"]));
        }

        return builder;
    }

    /// <summary>A list endpoint: <c>limit</c> and <c>cursor</c> (docs/api.md, "Pagination"), refused with <c>invalid_query</c>.</summary>
    public static RouteHandlerBuilder Paged(this RouteHandlerBuilder builder) => builder
        .WithMetadata(new ApiInputMetadata("limit", ApiInputKind.Limit, $"Items per page, 1 to {Pagination.MaxLimit} (default {Pagination.DefaultLimit})."))
        .WithMetadata(new ApiInputMetadata("cursor", ApiInputKind.Text, "The nextCursor of the previous page; absent for the first page."))
        .Refuses(ApiError.InvalidQuery);

    /// <summary>The JSON body the handler reads by hand (never routing metadata: see <c>ControlApi.MapControlApi</c>).</summary>
    public static RouteHandlerBuilder Takes<TBody>(this RouteHandlerBuilder builder, bool optional = false)
        => builder.WithMetadata(new ApiBodyMetadata(typeof(TBody), optional));

    public static RouteHandlerBuilder Reads(this RouteHandlerBuilder builder, string name, ApiInputKind kind, string description, bool inHeader = false)
        => builder.WithMetadata(new ApiInputMetadata(name, kind, description, inHeader));
}
