using System.Collections.Concurrent;

namespace Bctrl.Relay.State;

/// <summary>The embedded default's runtime store.</summary>
internal sealed class InMemoryRuntimeStore : IRuntimeStore
{
    private readonly ConcurrentDictionary<string, RuntimeRecord> _runtimes = new(StringComparer.Ordinal);

    public ValueTask<RuntimeRecord?> GetAsync(string runtimeId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_runtimes.GetValueOrDefault(runtimeId));

    public ValueTask<IReadOnlyList<RuntimeRecord>> ListAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyList<RuntimeRecord>>(
            _runtimes.Values.OrderBy(r => r.Id, StringComparer.Ordinal).ToArray());

    public ValueTask<bool> PutAsync(RuntimeRecord runtime, CancellationToken cancellationToken)
    {
        var created = true;
        _runtimes.AddOrUpdate(runtime.Id, runtime, (_, _) =>
        {
            created = false;
            return runtime;
        });
        return ValueTask.FromResult(created);
    }

    public ValueTask<bool> DeleteAsync(string runtimeId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_runtimes.TryRemove(runtimeId, out _));
}
