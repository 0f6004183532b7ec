using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.Control;

/// <summary>Checks <c>Authorization: Bearer &lt;control key&gt;</c> in constant time.</summary>
internal sealed class ControlAuth(byte[] key)
{
    public bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(header.AsSpan(Scheme.Length).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(presented, key);
    }
}
