using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lethe.Blobs;

/// A module's claim on the blob store: the containers it keeps blobs in, and in them the prefixes whose owner
/// (a workspace, a job, a lab) is gone, neither live nor soft-deleted. Each module that writes blobs for owners
/// it deletes implements one; the orphan sweep asks them all.
public interface IBlobOwners
{
    /// True when the module keeps its blobs in <paramref name="container"/>; a container no module claims is
    /// never touched.
    bool Claims(string container);

    /// In a container it claims, the prefixes ("" for the whole container) whose owner no longer exists.
    IAsyncEnumerable<string> OrphanPrefixesAsync(string container, CancellationToken ct);
}

/// The sweep behind the write fences (decision 0071): blobs that belong to no live or soft-deleted owner are
/// removed for good, live and soft-deleted, once the newest of them is older than
/// <see cref="BlobOptions.OrphanGrace"/> (a write may have put a blob before committing the row that owns it).
/// They are what a crash leaves between a delete's row and its last blob sweep, or between a fenced write's
/// put and its check. A prefix that cannot be purged is set aside and reported; the others go on.
public sealed class PurgeOrphanBlobs(IBlobStore blobs, IEnumerable<IBlobOwners> owners, IOptions<BlobOptions> options, LetheDb db, TimeProvider clock, ILogger<PurgeOrphanBlobs> logger)
    : RecurringJob(db, clock, logger)
{
    public const string JobKind = "blobs.purge-orphans";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    /// The decision: orphaned blobs go once nothing under their prefix was written within the grace.
    public static bool IsDue(DateTimeOffset? newestWrite, TimeSpan grace, DateTimeOffset now) => newestWrite is { } newest && now - newest >= grace;

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        var setAside = SetAsideKeys;
        var modules = owners.ToList();
        var containers = new List<string>();
        await foreach (var container in blobs.ListContainersAsync(ct))
        {
            containers.Add(container);
        }
        int purged = 0, failed = 0;
        foreach (var container in containers)
        {
            foreach (var owner in modules.Where(o => o.Claims(container)))
            {
                var prefixes = new List<string>();
                await foreach (var prefix in owner.OrphanPrefixesAsync(container, ct))
                {
                    prefixes.Add(prefix);
                }
                foreach (var prefix in prefixes)
                {
                    // Names the container and prefix, which hold resource names and job IDs, never personal data.
                    var key = $"{container}/{prefix}";
                    if (await setAside.ContainsAsync(key, ct) || !IsDue(await NewestWriteAsync(container, prefix, ct), options.Value.OrphanGrace, now))
                    {
                        continue;
                    }
                    if (await TryRecordAsync(key, c => blobs.PurgePrefixAsync(container, prefix, c), ct))
                    {
                        purged++;
                    }
                    else
                    {
                        failed++;
                    }
                }
            }
        }
        return $$"""{"purgedPrefixes":{{purged}},"failed":{{failed}},"setAside":{{await setAside.CountAsync(ct)}}}""";
    }

    private async Task<DateTimeOffset?> NewestWriteAsync(string container, string prefix, CancellationToken ct)
    {
        DateTimeOffset? newest = null;
        await foreach (var blob in blobs.ListAsync(container, prefix, ct).Concat(blobs.ListDeletedAsync(container, prefix, ct)).WithCancellation(ct))
        {
            newest = newest is { } n && n >= blob.LastModified ? n : blob.LastModified;
        }
        return newest;
    }
}
