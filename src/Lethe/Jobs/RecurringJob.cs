using Microsoft.EntityFrameworkCore;

namespace Lethe.Jobs;

/// A sweep (blob purge, workspace purge, lab anonymization, telemetry retention...) that runs every
/// <see cref="Interval"/> as a durable job scheduling its own next run: exactly one run is pending
/// at a time whatever the number of nodes, and a node that dies mid-sweep leaves it to another.
/// Register the subclass as an <see cref="IJobHandler"/>; the server queues a first run at start.
public abstract class RecurringJob(LetheDb db, TimeProvider clock) : IJobHandler
{
    protected LetheDb Db { get; } = db;

    protected TimeProvider Clock { get; } = clock;

    public abstract string Kind { get; }

    public abstract TimeSpan Interval { get; }

    /// One sweep; returns the job's result (JSON). Must be idempotent: a crash before the next run is
    /// queued runs it again.
    protected abstract Task<string> SweepAsync(CancellationToken ct);

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetResult(await SweepAsync(ct));
        // The next run is queued with this run's checkpoint, in one transaction: never zero, never two.
        await using var transaction = await Db.Database.BeginTransactionAsync(ct);
        JobQueue.Add(Db, Kind, "{}", null, null, Clock, Clock.GetUtcNow() + Interval);
        await Db.SaveChangesAsync(ct);
        await context.CheckpointAsync("""{"scheduled":true}""", 100, ct);
        await transaction.CommitAsync(ct);
    }

    /// At start: queue a run of each recurring job that has none waiting (first start, or after an
    /// operator cancelled it).
    public static async Task EnsureScheduledAsync(LetheDb db, IEnumerable<IJobHandler> handlers, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(handlers);
        foreach (var kind in handlers.OfType<RecurringJob>().Select(h => h.Kind).Distinct())
        {
            var waiting = await db.Jobs.AnyAsync(j => j.Kind == kind && (j.State == JobState.Pending || j.State == JobState.Running), ct);
            if (!waiting)
            {
                await JobQueue.EnqueueAsync(db, kind, "{}", null, null, clock, ct);
            }
        }
    }
}
