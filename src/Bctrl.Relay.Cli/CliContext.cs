using System.CommandLine;
using Bctrl.Relay.Client;

namespace Bctrl.Relay.Cli;

/// <summary>One command's run: its parse result, the global options resolved (flag, then environment), the writers.</summary>
internal sealed class CliContext(ParseResult parse, CliHost host, GlobalOptions options)
{
    public const string UrlVariable = "BCTRL_RELAY_URL";
    public const string KeyVariable = "BCTRL_RELAY_KEY";
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public ParseResult Parse => parse;

    public TextWriter Out => host.Out;

    public bool Json => parse.GetValue(options.Json);

    public bool IsOutputRedirected => host.IsOutputRedirected;

    public RelayClient Connect()
    {
        var url = NonEmpty(parse.GetValue(options.Url)) ?? NonEmpty(host.Environment(UrlVariable)) ?? DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new CliException("invalid_url", $"The relay URL must be an absolute http:// or https:// URL (--url or {UrlVariable}).");
        }

        var key = NonEmpty(parse.GetValue(options.Key)) ?? NonEmpty(host.Environment(KeyVariable))
            ?? throw new CliException("missing_key", $"The control API key is required: set {KeyVariable} or pass --key.");
        return new RelayClient(baseAddress, key);
    }

    public static Guid ConnectionId(string text)
        => Guid.TryParse(text, out var id) ? id : throw new CliException("invalid_connection_id", $"'{text}' is not a connection id.");

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
