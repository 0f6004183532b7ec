namespace Bctrl.Relay.Leases;

internal enum LeaseProtocol : byte
{
    Cdp = 1,
}
