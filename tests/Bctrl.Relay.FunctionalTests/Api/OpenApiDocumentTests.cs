using System.Text.Json;
using Bctrl.Relay.Control;
using Bctrl.Relay.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Api;

/// <summary>
/// docs/api.md: <c>/openapi/v1.json</c> describes exactly the <c>/v1</c> endpoints the relay maps, names only codes of the
/// catalogue, and has a schema for every body.
/// </summary>
public sealed class OpenApiDocumentTests
{
    [Fact(Timeout = 30_000)]
    public async Task The_document_lists_every_mapped_v1_route_and_method_and_nothing_else()
    {
        await using var relay = await RelayServer.StartAsync();
        using var document = await FetchAsync(relay);

        var mapped = relay.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var described = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => op.Name is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
                .Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(12, mapped.Length); // runtimes (4), connections (4), events, attaches, artifacts (2): a route lost from the map fails here
        Assert.Equal(mapped, described);
        var operationIds = Operations(document).Select(o => o.Operation.GetProperty("operationId").GetString()).ToArray();
        Assert.Equal(operationIds.Length, operationIds.Distinct().Count()); // client generators name methods by them
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_error_response_names_catalogue_codes_of_its_status_with_the_error_body()
    {
        await using var relay = await RelayServer.StartAsync();
        using var document = await FetchAsync(relay);
        var catalogue = ApiError.All.ToDictionary(e => e.Code, e => e.Status);
        var named = new HashSet<string>();

        foreach (var (operation, name) in Operations(document))
        {
            var responses = operation.GetProperty("responses");
            foreach (var response in responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
            {
                var codes = response.Value.GetProperty(ControlApiDocument.ErrorCodesExtension).EnumerateArray().Select(c => c.GetString()!).ToArray();
                Assert.NotEmpty(codes);
                foreach (var code in codes)
                {
                    Assert.True(catalogue.TryGetValue(code, out var status), $"{name} names {code}, which is not in the catalogue");
                    Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Name);
                    named.Add(code);
                }

                Assert.Equal("#/components/schemas/ErrorBody", SchemaRef(response.Value, "application/json"));
            }

            // The group's refusals are on every call.
            Assert.True(responses.TryGetProperty("401", out _), $"{name} has no 401");
            Assert.True(responses.TryGetProperty("503", out _), $"{name} has no 503");
        }

        Assert.Contains("invalid_query", named);
        Assert.Contains("connection_not_found", named);
    }

    [Fact(Timeout = 30_000)]
    public async Task Bodies_have_schemas_and_every_reference_resolves()
    {
        await using var relay = await RelayServer.StartAsync();
        using var document = await FetchAsync(relay);
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");

        foreach (var (operation, name) in Operations(document))
        {
            if (name.StartsWith("PUT ", StringComparison.Ordinal) || name.StartsWith("POST ", StringComparison.Ordinal))
            {
                Assert.NotNull(SchemaRef(operation.GetProperty("requestBody"), "application/json"));
            }

            foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(r => r.Name is "200" or "201"))
            {
                var content = response.Value.GetProperty("content");
                Assert.True(content.EnumerateObject().Any(), $"{name} {response.Name} has no body");
                Assert.All(content.EnumerateObject(), media => Assert.True(media.Value.TryGetProperty("schema", out _), $"{name} {response.Name} {media.Name} has no schema"));
            }
        }

        foreach (var reference in References(document.RootElement))
        {
            Assert.StartsWith("#/components/schemas/", reference, StringComparison.Ordinal);
            Assert.True(schemas.TryGetProperty(reference["#/components/schemas/".Length..], out _), $"{reference} does not resolve");
        }

        // The wire names (camelCase, from the source-generated context) and the page's cursor.
        var list = schemas.GetProperty("ListResponseOfRuntimeResponse").GetProperty("properties");
        Assert.True(list.TryGetProperty("data", out _));
        Assert.True(list.TryGetProperty("nextCursor", out _));
        Assert.True(schemas.GetProperty("ErrorBody").GetProperty("properties").TryGetProperty("error", out _));
        Assert.True(schemas.GetProperty("CreatedConnectionResponse").GetProperty("properties").TryGetProperty("endpoint", out _));

        // As the API reads it: an empty body is fine, and a number is a number, never "300".
        var create = schemas.GetProperty("CreateConnectionRequest");
        Assert.False(create.TryGetProperty("required", out _));
        Assert.DoesNotContain("string", create.GetProperty("properties").GetProperty("ttlSeconds").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact(Timeout = 30_000)]
    public async Task Lists_take_limit_and_cursor_and_every_call_needs_the_bearer_key()
    {
        await using var relay = await RelayServer.StartAsync();
        using var document = await FetchAsync(relay);
        var root = document.RootElement;

        var scheme = root.GetProperty("components").GetProperty("securitySchemes").GetProperty(ControlApiDocument.BearerScheme);
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(root.GetProperty("security")[0].TryGetProperty(ControlApiDocument.BearerScheme, out _));

        foreach (var list in new[] { "/v1/runtimes", "/v1/runtimes/{runtimeId}/connections", "/v1/runtimes/{runtimeId}/connections/{connectionId}/attaches" })
        {
            var parameters = root.GetProperty("paths").GetProperty(list).GetProperty("get").GetProperty("parameters").EnumerateArray()
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p);
            var limit = parameters["limit"];
            Assert.Equal("query", limit.GetProperty("in").GetString());
            Assert.Equal(1, limit.GetProperty("schema").GetProperty("minimum").GetInt32());
            Assert.Equal(1000, limit.GetProperty("schema").GetProperty("maximum").GetInt32());
            Assert.Equal(100, limit.GetProperty("schema").GetProperty("default").GetInt32());
            Assert.Equal("query", parameters["cursor"].GetProperty("in").GetString());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task The_document_needs_no_key()
    {
        await using var relay = await RelayServer.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = relay.BaseUrl };

        using var response = await anonymous.GetAsync(ControlApiDocument.Path.TrimStart('/'));
        using var api = await anonymous.GetAsync("v1/runtimes");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, (int)api.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task With_split_listeners_the_document_is_on_the_management_listener_only()
    {
        var managementPort = Loopback.FreePort();
        await using var relay = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:ManagementUrls"] = $"http://127.0.0.1:{managementPort}" });
        Assert.NotEqual(managementPort, relay.BaseUrl.Port);
        using var http = new HttpClient();

        using var management = await http.GetAsync($"http://127.0.0.1:{managementPort}{ControlApiDocument.Path}");
        using var data = await http.GetAsync(new Uri(relay.BaseUrl, ControlApiDocument.Path));

        Assert.Equal(200, (int)management.StatusCode);
        await Control.ApiAssert.ErrorAsync(data, 404, "not_found");
    }

    private static async Task<JsonDocument> FetchAsync(RelayServer relay)
    {
        using var response = await relay.Http.GetAsync(ControlApiDocument.Path.TrimStart('/'));
        Assert.Equal(200, (int)response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static IEnumerable<(JsonElement Operation, string Name)> Operations(JsonDocument document)
        => document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => op.Value.ValueKind == JsonValueKind.Object && op.Value.TryGetProperty("responses", out _))
                .Select(op => (op.Value, $"{op.Name.ToUpperInvariant()} {path.Name}")));

    private static string? SchemaRef(JsonElement withContent, string mediaType)
        => withContent.GetProperty("content").GetProperty(mediaType).GetProperty("schema").TryGetProperty("$ref", out var reference)
            ? reference.GetString()
            : null;

    private static IEnumerable<string> References(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return property.Value.GetString()!;
                    }

                    foreach (var inner in References(property.Value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in References(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }
}
