using System.Globalization;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Control;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// The whole HTTP answer a listener writes to a connection it will not serve: <see cref="ApiError.AtCapacity"/>, the
/// same JSON error and <c>Retry-After</c> the endpoints answer with, written before any request is read.
/// </summary>
internal static class AtCapacityAnswer
{
    public static readonly byte[] Bytes = Build(ApiError.AtCapacity);

    private static byte[] Build(ApiError error)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(new ErrorDetail(error.Code, error.Message)), RelayJsonContext.Default.ErrorBody);
        var retryAfter = ((int)Math.Ceiling(error.RetryAfter!.Value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return
        [
            .. Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {error.Status} Service Unavailable\r\n"
                + "Content-Type: application/json; charset=utf-8\r\n"
                + $"Retry-After: {retryAfter}\r\n"
                + "Connection: close\r\n"
                + $"Content-Length: {body.Length}\r\n\r\n"),
            .. body,
        ];
    }
}
