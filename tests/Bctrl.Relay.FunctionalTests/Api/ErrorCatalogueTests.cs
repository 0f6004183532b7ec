using System.Reflection;
using System.Text.RegularExpressions;
using Bctrl.Relay.Control;

namespace Bctrl.Relay.FunctionalTests.Api;

/// <summary>docs/api.md, "Error catalogue": one entry per code, and README's table lists exactly those.</summary>
public sealed partial class ErrorCatalogueTests
{
    [Fact]
    public void All_lists_every_entry_once_and_no_code_twice()
    {
        var declared = typeof(ApiError)
            .GetProperties(BindingFlags.Public | BindingFlags.Static)
            .Where(p => p.PropertyType == typeof(ApiError))
            .Select(p => (ApiError)p.GetValue(null)!)
            .ToArray();

        Assert.NotEmpty(declared);
        Assert.Equal(declared.Select(e => e.Code).Order(StringComparer.Ordinal), ApiError.All.Select(e => e.Code).Order(StringComparer.Ordinal));
        Assert.Equal(ApiError.All.Count, ApiError.All.Select(e => e.Code).Distinct(StringComparer.Ordinal).Count());
        Assert.All(ApiError.All, e => Assert.Matches("^[a-z0-9]+(_[a-z0-9]+)*$", e.Code));
        Assert.All(ApiError.All, e => Assert.InRange(e.Status, 400, 599));
    }

    [Fact]
    public void With_keeps_the_entry_and_changes_only_the_message()
    {
        var error = ApiError.InvalidQuery.With("limit must be between 1 and 1000.");
        Assert.Equal((400, "invalid_query", "limit must be between 1 and 1000."), (error.Status, error.Code, error.Message));
        Assert.Equal(ApiError.AtCapacity.RetryAfter, ApiError.AtCapacity.With("x").RetryAfter);
    }

    [Fact]
    public void Readme_error_table_lists_exactly_the_catalogue()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var section = readme[readme.IndexOf("\n### Error codes\n", StringComparison.Ordinal)..];
        var table = section.Split('\n').SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).ToArray();
        var rows = table.Select(l => Row().Match(l)).Where(m => m.Success)
            .Select(m => (Status: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Code: m.Groups[2].Value))
            .ToArray();

        Assert.Equal(table.Length - 2, rows.Length); // every line under the header is a code
        Assert.Equal(
            ApiError.All.Select(e => $"{e.Status} {e.Code}").Order(StringComparer.Ordinal),
            rows.Select(r => $"{r.Status} {r.Code}").Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"^\| (\d{3}) \| `([a-z0-9_]+)` \|")]
    private static partial Regex Row();
}
