namespace Bctrl.Relay.Frames;

/// <summary>Which way frames travel; it fixes the mask bit they must carry (RFC 6455 §5.1).</summary>
internal enum FrameDirection : byte
{
    /// <summary>Client to runtime: every frame is masked.</summary>
    ClientToRuntime,

    /// <summary>Runtime to client: no frame is masked.</summary>
    RuntimeToClient,
}
