using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Hosting;

/// Drives a recurring sweep of a running server: its waiting run is made due now, and the server's
/// own workers run it (with its real schedule, next run and bookkeeping).
public static class Sweeps
{
    public static async Task<Job> RunSweepAsync(this LetheHost host, string kind, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(host);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Guid? run = null;
        while (DateTime.UtcNow < deadline)
        {
            if (run is null)
            {
                var live = await host.WithDbAsync(db => db.Jobs.AsNoTracking()
                    .Where(j => j.Kind == kind && (j.State == JobState.Pending || j.State == JobState.Running)).ToListAsync(ct));
                // A run in progress (the first, at start) ends first; then exactly one waits.
                if (live.Count == 1 && live[0].State == JobState.Pending)
                {
                    var id = live[0].Id;
                    run = id;
                    await host.WithDbAsync(db => db.Jobs.Where(j => j.Id == id && j.State == JobState.Pending)
                        .ExecuteUpdateAsync(set => set.SetProperty(j => j.RunAfter, DateTimeOffset.UtcNow.AddSeconds(-1)), ct));
                }
            }
            else
            {
                var id = run.Value;
                var job = await host.WithDbAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, ct));
                if (job.State is JobState.Succeeded or JobState.Failed)
                {
                    return job;
                }
            }
            await Task.Delay(50, ct);
        }
        throw new TimeoutException($"The {kind} sweep did not run within a minute.");
    }

    /// Makes one row unchangeable, as a corrupt or locked record would be: PostgreSQL refuses to
    /// update or delete it (<paramref name="operations"/>, by a trigger), whoever asks.
    public static Task PoisonAsync(this LetheHost host, string table, Guid id, CancellationToken ct, string operations = "UPDATE OR DELETE")
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = $"poison_{id:N}";
#pragma warning disable EF1002 // The table and trigger names are the test's own constants, not input.
        return host.WithDbAsync(db => db.Database.ExecuteSqlRawAsync($"""
            CREATE OR REPLACE FUNCTION lethe_test_poisoned() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'this record is poisoned'; END $$;
            CREATE TRIGGER {name} BEFORE {operations} ON "{table}" FOR EACH ROW
            WHEN (OLD."Id" = '{id}') EXECUTE FUNCTION lethe_test_poisoned();
            """, ct));
#pragma warning restore EF1002
    }

    public static Task CurePoisonAsync(this LetheHost host, string table, Guid id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(host);
#pragma warning disable EF1002 // The table and trigger names are the test's own constants, not input.
        return host.WithDbAsync(db => db.Database.ExecuteSqlRawAsync($"DROP TRIGGER poison_{id:N} ON \"{table}\"", ct));
#pragma warning restore EF1002
    }
}
