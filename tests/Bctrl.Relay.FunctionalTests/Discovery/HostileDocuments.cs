using System.Text;
using Bctrl.Relay.FunctionalTests.Control;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Discovery;

/// <summary>Discovery documents a hostile runtime sends, and a relay with such a runtime registered under a lease.</summary>
internal static class HostileDocuments
{
    public const string RuntimeId = "rt-hostile";

    /// <summary>
    /// About 64 KiB of <c>/json/list</c> entries (without the brackets), each with the runtime's address in both URLs the
    /// relay rewrites: one buffer, sent again and again to make a document of any size.
    /// </summary>
    public static byte[] PageBlock(int runtimePort)
    {
        var page = $$"""{"description":"","devtoolsFrontendUrl":"/devtools/inspector.html?ws=127.0.0.1:{{runtimePort}}/devtools/page/{{CountingRuntime.PageId1}}","id":"{{CountingRuntime.PageId1}}","title":"Example Domain","type":"page","url":"https://example.com/","webSocketDebuggerUrl":"ws://127.0.0.1:{{runtimePort}}/devtools/page/{{CountingRuntime.PageId1}}"}""";
        var pages = Enumerable.Repeat(page, (64 * 1024) / (page.Length + 1));
        return Encoding.UTF8.GetBytes(string.Join(',', pages));
    }

    /// <summary>Starts a relay (with <paramref name="settings"/>), registers <paramref name="runtime"/> and leases it.</summary>
    public static async Task<(RelayServer Relay, string Token)> LeaseAsync(ScriptedHttpRuntime runtime, IDictionary<string, string?>? settings = null)
    {
        var relay = await RelayServer.StartAsync(settings);
        try
        {
            await relay.PutRuntimeAsync(RuntimeId, runtime.HttpUrl);
            var (_, url) = await relay.CreateConnectionAsync(RuntimeId);
            return (relay, AttachRig.TokenOf(url));
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
    }
}
