using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Lethe.Privacy.Requests;

/// Bundles are personal data too: each is deleted <see cref="PrivacyOptions.BundleRetentionDays"/> after it was
/// written. Staged files of requests that ended (or no longer exist) are removed with them: a crash between a
/// bundle's completion and the removal of its staged files leaves them to this sweep.
public sealed class PurgeExpiredBundles(LetheDb db, IBlobStore blobs, TimeProvider clock, ILogger<PurgeExpiredBundles> logger)
    : RecurringJob(db, clock, logger)
{
    public const string JobKind = "privacy.bundle-retention";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    public static async Task<(int Bundles, int Staged)> RunAsync(LetheDb db, IBlobStore blobs, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        var due = await db.PrivacyRequests.AsNoTracking().Where(r => r.BundleName != null && r.BundleExpiresAt <= now)
            .OrderBy(r => r.BundleExpiresAt).ThenBy(r => r.Id).Select(r => r.Id).Take(1000).ToListAsync(ct);
        foreach (var id in due)
        {
            await blobs.PurgeAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(id), ct);
            await db.PrivacyRequests.Where(r => r.Id == id).ExecuteUpdateAsync(set => set.SetProperty(r => r.BundleName, (string?)null), ct);
        }
        // The folders first, then the purges: a listing is not walked while it changes.
        var folders = new List<Guid>();
        await foreach (var blob in blobs.ListAsync(PrivacyBlobs.Container, PrivacyBlobs.StagingPrefix, ct))
        {
            if (Guid.TryParse(blob.Name[PrivacyBlobs.StagingPrefix.Length..].Split('/')[0], out var id) && (folders.Count == 0 || folders[^1] != id))
            {
                folders.Add(id);
            }
        }
        var staged = 0;
        foreach (var id in folders.Distinct())
        {
            var live = await db.PrivacyRequests.AsNoTracking().AnyAsync(r => r.Id == id
                && (r.Status == PrivacyRequestStatus.Verified || r.Status == PrivacyRequestStatus.Running || r.Status == PrivacyRequestStatus.Failed), ct);
            if (!live)
            {
                staged += await blobs.PurgePrefixAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(id), ct);
            }
        }
        return (due.Count, staged);
    }

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var (bundles, staged) = await RunAsync(Db, blobs, Clock.GetUtcNow(), ct);
        return $$"""{"bundles":{{bundles}},"staged":{{staged}}}""";
    }
}
