namespace Bctrl.Relay.Testing;

/// <summary>How the fake runtime answers a WebSocket upgrade request.</summary>
public enum FakeRuntimeBehavior
{
    /// <summary>A correct 101 with the right <c>Sec-WebSocket-Accept</c>; the connection is then the test's.</summary>
    Accept,

    /// <summary>A plain <c>200 OK</c>, as a non-WebSocket server would.</summary>
    Answer200,

    /// <summary>A 101 with Upgrade and Connection but no <c>Sec-WebSocket-Accept</c>.</summary>
    Answer101WithoutAccept,

    /// <summary>A 101 whose <c>Sec-WebSocket-Accept</c> answers some other key.</summary>
    Answer101WrongAccept,

    /// <summary>Reads the request, then resets the connection (RST, no answer).</summary>
    Reset,

    /// <summary>Reads the request and never answers.</summary>
    Hang,
}
