using System.Text;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// The whole HTTP answer a listener writes to a connection it will not serve: the same JSON error and
/// <c>Retry-After</c> as the attach endpoint's 503 <c>at_capacity</c>, written before any request is read.
/// </summary>
internal static class AtCapacityAnswer
{
    public const string Code = "at_capacity";

    public const string Message = "This relay node is at capacity; retry on another node.";

    public static readonly byte[] Bytes = Build();

    private static byte[] Build()
    {
        var body = $"{{\"error\":{{\"code\":\"{Code}\",\"message\":\"{Message}\"}}}}";
        return Encoding.ASCII.GetBytes(
            "HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: application/json; charset=utf-8\r\n"
            + "Retry-After: 1\r\n"
            + "Connection: close\r\n"
            + $"Content-Length: {body.Length}\r\n\r\n"
            + body);
    }
}
