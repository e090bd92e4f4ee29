using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Blobs;

/// The sweep that ends blob soft delete: tombstones older than the retention are purged for good.
/// It runs as a durable job that schedules its own next run, so exactly one sweep is pending at a
/// time whatever the number of nodes, and a node that dies mid-sweep leaves it to another.
public sealed class PurgeExpiredBlobs(IBlobStore blobs, LetheDb db, TimeProvider clock) : IJobHandler
{
    public const string JobKind = "blobs.purge-expired";

    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public string Kind => JobKind;

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var purged = await blobs.PurgeExpiredAsync(clock.GetUtcNow(), ct);
        context.SetResult($$"""{"purged":{{purged}}}""");
        // The next sweep is queued with this run's checkpoint, in one transaction: never zero, never two.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        JobQueue.Add(db, JobKind, "{}", null, null, clock, clock.GetUtcNow() + Interval);
        await db.SaveChangesAsync(ct);
        await context.CheckpointAsync("""{"scheduled":true}""", 100, ct);
        await transaction.CommitAsync(ct);
    }

    /// At start: queue a sweep if none is waiting (first start, or after an operator cancelled it).
    public static async Task EnsureScheduledAsync(LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var waiting = await db.Jobs.AnyAsync(j => j.Kind == JobKind && (j.State == JobState.Pending || j.State == JobState.Running), ct);
        if (!waiting)
        {
            await JobQueue.EnqueueAsync(db, JobKind, "{}", null, null, clock, ct);
        }
    }
}
