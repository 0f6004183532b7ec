using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>Assertions on the documented error shape (docs/design.md §2): <c>{"error":{"code":"snake_case","message":"…"}}</c>.</summary>
internal static partial class ApiAssert
{
    /// <summary>Asserts the status and the exact error shape with <paramref name="code"/>; returns the body.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, int status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.True(
            response.Content.Headers.ContentType?.MediaType == "application/json",
            $"{(int)response.StatusCode} with Content-Type {response.Content.Headers.ContentType}, body \"{body}\"");
        ErrorBody(body, code);
        return body;
    }

    /// <summary>The same for a response read off a raw socket.</summary>
    public static string Error(RawResponse response, int status, string code)
    {
        Assert.True(status == response.Status, $"expected {status}, got {response.Status}: {response.Body}");
        Assert.NotEqual(101, response.Status);
        Assert.Null(response.Socket);
        var contentType = response.Header("Content-Type");
        Assert.True(contentType is not null, $"{response.Status} without a Content-Type, body \"{response.Body}\"");
        Assert.Equal("application/json", MediaTypeHeaderValue.Parse(contentType).MediaType);
        ErrorBody(response.Body, code);
        return response.Body;
    }

    /// <summary>Exactly one property <c>error</c> holding exactly a snake_case <c>code</c> and a non-empty <c>message</c>.</summary>
    public static void ErrorBody(string body, string code)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
        var error = root.GetProperty("error");
        Assert.Equal(["code", "message"], error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Matches(SnakeCase(), code);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    [GeneratedRegex("^[a-z]+(_[a-z]+)*$")]
    private static partial Regex SnakeCase();
}
