using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bctrl.Relay.Tests.Discovery;

/// <summary>
/// The rewrite the relay had before it streamed (DiscoveryEndpoint.Rewrite, parse whole into a JsonNode): the oracle the
/// streaming rewriter must match byte for byte.
/// </summary>
internal static partial class JsonNodeRewrite
{
    public static string Apply(string document, string connectionUrl)
    {
        var node = JsonNode.Parse(document);
        Rewrite(node, connectionUrl);
        return node?.ToJsonString() ?? "null";
    }

    private static void Rewrite(JsonNode? node, string connectionUrl)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    Rewrite(item, connectionUrl);
                }

                break;
            case JsonObject obj:
                foreach (var (name, value) in obj.ToArray())
                {
                    if (value is JsonValue text && text.TryGetValue<string>(out var url))
                    {
                        if (name == "webSocketDebuggerUrl" && Uri.TryCreate(url, UriKind.Absolute, out var socket))
                        {
                            obj[name] = connectionUrl + socket.AbsolutePath;
                        }
                        else if (name == "devtoolsFrontendUrl")
                        {
                            var relay = new Uri(connectionUrl);
                            obj[name] = FrontendSocket().Replace(url, $"{relay.Scheme}={relay.Authority}{relay.AbsolutePath}/devtools/");
                        }
                    }
                    else
                    {
                        Rewrite(value, connectionUrl);
                    }
                }

                break;
        }
    }

    [GeneratedRegex("wss?=[^/&]+/devtools/")]
    private static partial Regex FrontendSocket();
}
