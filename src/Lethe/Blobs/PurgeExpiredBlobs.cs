using Lethe.Jobs;

namespace Lethe.Blobs;

/// The sweep that ends blob soft delete: tombstones older than the retention are purged for good.
public sealed class PurgeExpiredBlobs(IBlobStore blobs, LetheDb db, TimeProvider clock) : RecurringJob(db, clock)
{
    public const string JobKind = "blobs.purge-expired";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var purged = await blobs.PurgeExpiredAsync(Clock.GetUtcNow(), ct);
        return $$"""{"purged":{{purged}}}""";
    }
}
