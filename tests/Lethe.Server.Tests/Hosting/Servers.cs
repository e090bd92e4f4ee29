using System.Collections.Concurrent;

namespace Lethe.Server.Tests.Hosting;

/// The servers one test class shares, one per database provider, started on first use. Tests in
/// the class do not interfere: each makes its own subscriptions and users. A provider that cannot
/// start (PostgreSQL not reachable) fails the tests that need it and only those.
public class Servers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<DatabaseProvider, Lazy<Task<LetheHost>>> _hosts = new();

    /// Settings every server of this fixture adds to the defaults.
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public Task<LetheHost> GetAsync(DatabaseProvider provider)
        => _hosts.GetOrAdd(provider, p => new Lazy<Task<LetheHost>>(() => StartAsync(p))).Value;

    protected virtual Task<LetheHost> StartAsync(DatabaseProvider provider) => LetheHost.StartAsync(provider, Settings);

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _hosts.Values)
        {
            var start = lazy.Value;
            // A server that never started has failed its tests already, with the reason.
            await ((Task)start).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (start.IsCompletedSuccessfully)
            {
                await start.Result.DisposeAsync();
            }
        }
        await DisposeMoreAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual ValueTask DisposeMoreAsync() => ValueTask.CompletedTask;
}
