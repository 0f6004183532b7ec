namespace Bctrl.Relay.Observation;

/// <summary>The recording metadata of each attach, by connection: saved when it opens and again when it closes.</summary>
internal interface IAttachRecordStore
{
    ValueTask SaveAsync(AttachRecord record, CancellationToken cancellationToken);

    /// <summary>Oldest first.</summary>
    ValueTask<IReadOnlyList<AttachRecord>> ListAsync(Guid connectionId, CancellationToken cancellationToken);
}
