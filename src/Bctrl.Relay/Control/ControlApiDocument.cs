using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bctrl.Relay.Control;

/// <summary>
/// The control API's OpenAPI document at <c>/openapi/v1.json</c> (docs/api.md). It describes the <c>/v1</c> endpoints
/// only, from their own metadata: schemas come from the handlers' declared bodies through the app's JSON options, whose
/// first resolver is the source-generated <see cref="RelayJsonContext"/>, so the document shows the names and null
/// handling the API really writes. Error responses list their codes from <see cref="ApiErrorsMetadata"/>, entries of
/// the catalogue, so the document cannot name a code the relay does not have.
/// </summary>
internal static class ControlApiDocument
{
    public const string Name = "v1";

    public const string Path = "/openapi/v1.json";

    /// <summary>The name of the security scheme: <c>Authorization: Bearer &lt;Relay:ControlApiKey&gt;</c>.</summary>
    public const string BearerScheme = "controlKey";

    /// <summary>The OpenAPI extension on each error response that lists its codes.</summary>
    public const string ErrorCodesExtension = "x-error-codes";

    public static IServiceCollection AddControlApiDocument(this IServiceCollection services) => services.AddOpenApi(Name, options =>
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer(DescribeDocumentAsync);
        options.AddOperationTransformer(DescribeOperationAsync);
    });

    /// <summary>
    /// Served without the control key (it describes the API, never a secret) on the listeners of the control API: the
    /// management listeners when <c>Relay:ManagementUrls</c> splits them (<see cref="Hosting.ListenerRoles"/>).
    /// </summary>
    public static void MapControlApiDocument(this IEndpointRouteBuilder app) => app.MapOpenApi("/openapi/{documentName}.json");

    private static Task DescribeDocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Bctrl.Relay control API",
            Version = Name,
            Description = "Runtimes, connections (leases) and what was recorded of them. Every call needs the control API key as a Bearer token. "
                + "Errors are {\"error\":{\"code\",\"message\"}}; each error response lists its codes in x-error-codes. "
                + "Lists take limit and cursor and answer nextCursor until the last page.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The control API key (Relay:ControlApiKey).",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        return Task.CompletedTask;
    }

    private static async Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<ApiBodyMetadata>().FirstOrDefault() is { } body && context.Document is { } document)
        {
            // The schema comes back inline: registered under the type's name, like the response bodies' schemas.
            var schema = await context.GetOrCreateSchemaAsync(body.Type, parameterDescription: null, cancellationToken);
            document.AddComponent(body.Type.Name, schema);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = !body.Optional,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference(body.Type.Name, document) },
                },
            };
        }

        foreach (var input in metadata.OfType<ApiInputMetadata>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = input.Name,
                In = input.InHeader ? ParameterLocation.Header : ParameterLocation.Query,
                Description = input.Description,
                Schema = SchemaOf(input.Kind),
            });
        }

        foreach (var byStatus in metadata.OfType<ApiErrorsMetadata>().SelectMany(m => m.Errors).DistinctBy(e => e.Code).GroupBy(e => e.Status))
        {
            var status = byStatus.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses?.TryGetValue(status, out var found) != true || found is not OpenApiResponse response)
            {
                throw new InvalidOperationException($"{context.Description.RelativePath} declares errors with status {status} but no response for it.");
            }

            var codes = byStatus.Select(e => e.Code).Order(StringComparer.Ordinal).ToArray();
            response.Description = "Error codes: " + string.Join(", ", codes) + ".";
            response.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            response.Extensions[ErrorCodesExtension] = new JsonNodeExtension(new JsonArray([.. codes.Select(c => (JsonNode)JsonValue.Create(c))]));
        }
    }

    private static OpenApiSchema SchemaOf(ApiInputKind kind) => kind switch
    {
        ApiInputKind.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
        ApiInputKind.Limit => new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Format = "int32",
            Minimum = "1",
            Maximum = Pagination.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Default = JsonValue.Create(Pagination.DefaultLimit),
        },
        _ => new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
