using Lethe.Jobs;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Jobs;

/// A server process as far as jobs go: the provider's registration (which brings its claimer),
/// the job workers, the handlers under test, and the clock the test controls.
internal static class JobTestHost
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    /// How long a test waits for something that happens in the background before failing.
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static ServiceProvider Create(TestDatabase db, TimeProvider clock, Action<IServiceCollection> handlers, Action<JobOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock);
        if (db.Provider == DatabaseProvider.Sqlite)
        {
            services.AddLetheSqlite(db.ConnectionString);
        }
        else
        {
            services.AddLethePostgres(db.ConnectionString);
        }
        services.AddLetheJobs(options =>
        {
            options.Workers = 1;
            options.LeaseSeconds = 60;
            configure?.Invoke(options);
        });
        handlers(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    public static JobWorker Worker(this IServiceProvider services)
        => services.GetServices<IHostedService>().OfType<JobWorker>().Single();

    public static async Task<Job> LoadJobAsync(this TestDatabase db, Guid id, CancellationToken ct)
    {
        await using var context = db.CreateContext();
        return await context.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, ct);
    }

    public static async Task<Job> EnqueueAsync(this TestDatabase db, string kind, TimeProvider clock, CancellationToken ct)
    {
        await using var context = db.CreateContext();
        return await JobQueue.EnqueueAsync(context, kind, "{}", requestedBy: null, resourceId: null, clock, ct);
    }

    /// Polls (in real time) until the condition holds: for effects of background work.
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(20, ct);
        }
    }
}

/// A fake clock that tells when a timer is armed on it, i.e. when a worker starts to wait for it
/// (its next heartbeat, which it arms only after writing the last renewal, or its next poll), so
/// that a test moves time on only once the worker is waiting.
internal sealed class ArmedClock(DateTimeOffset start) : TimeProvider
{
    private readonly FakeTimeProvider _time = new(start);
    private readonly SemaphoreSlim _armed = new(0);

    public override DateTimeOffset GetUtcNow() => _time.GetUtcNow();

    public override long GetTimestamp() => _time.GetTimestamp();

    public override long TimestampFrequency => _time.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = _time.CreateTimer(callback, state, dueTime, period);
        _armed.Release();
        return timer;
    }

    public void Advance(TimeSpan delta) => _time.Advance(delta);

    public async Task WaitArmedAsync(CancellationToken ct)
        => Assert.True(await _armed.WaitAsync(JobTestHost.Patience, ct), "No timer was armed.");
}
