namespace Bctrl.Relay.Splice;

/// <summary>
/// What one direction of an attach moved: bytes forwarded, frames and data messages seen whole. One value flows from
/// the splice's leg to the attach summary, the metrics' totals and the attach record.
/// </summary>
internal readonly record struct TrafficCount(long Bytes, long Frames, long Messages)
{
    public static TrafficCount operator +(TrafficCount left, TrafficCount right)
        => new(left.Bytes + right.Bytes, left.Frames + right.Frames, left.Messages + right.Messages);
}
