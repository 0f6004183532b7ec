using System.Globalization;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

internal sealed partial class FleetSync
{
    private void Handle(RedisValue raw)
    {
        if (raw.IsNull)
        {
            return; // a wake-up
        }

        if (!FleetMessage.TryParse((string?)raw, out var message))
        {
            RedisLog.BadMessage(_logger);
            return;
        }

        if (!_synced)
        {
            return; // the next snapshot holds it
        }

        if (message.Epoch != _epoch)
        {
            RequestResync(ResyncReason.Epoch);
            return;
        }

        switch (message.Kind)
        {
            case FleetMessage.Ping:
                if (message.Node == _writer.NodeId)
                {
                    OnOwnPing(message);
                }

                return;
            case FleetMessage.Bulk:
                if (message.Version > _applied)
                {
                    RequestResync(ResyncReason.Bulk);
                }

                return;
        }

        if (message.Version <= _applied)
        {
            return; // in the snapshot already
        }

        if (message.Version != _applied + 1)
        {
            RequestResync(ResyncReason.Gap);
            return;
        }

        Apply(message);
        _applied = message.Version;
        _version.Set(_applied);
    }

    private void Apply(FleetMessage message)
    {
        var fields = message.Fields;
        switch (message.Kind)
        {
            case FleetMessage.Revoked when Guid.TryParseExact(fields[0], "N", out var connectionId)
                && long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pruneAfter):
                var terminate = fields[2] == "1";
                _view.Apply(connectionId, new Revocation(pruneAfter, terminate));

                // The node that revoked has terminated its own attaches already.
                if (terminate && message.Node != _writer.NodeId)
                {
                    _view.RaiseTerminated(connectionId);
                }

                break;
            case FleetMessage.RuntimePut when RuntimeCodec.TryDecode(fields[0], fields[1] + " " + fields[2], out var runtime):
                _runtimes.ApplyPut(runtime);
                break;
            case FleetMessage.RuntimeDeleted:
                _runtimes.ApplyDelete(fields[0]);
                break;
            default:
                RedisLog.BadMessage(_logger);
                break;
        }
    }
}
