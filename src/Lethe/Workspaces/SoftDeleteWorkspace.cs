using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Deleting a workspace is a soft delete by default (seed 001, Azure ML's workspace soft delete): the
/// workspace and every asset and blob of it stay, hidden, until the retention ends or it is purged;
/// its name stays reserved; recovering brings it all back.
public static class SoftDeleteWorkspace
{
    public static DateTimeOffset PurgeAfter(DateTimeOffset deletedAt, int retentionDays) => deletedAt.AddDays(retentionDays);

    /// Purge protection holds a soft-deleted workspace until its retention ends.
    public static bool CanPurgeNow(Workspace workspace, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return !workspace.PurgeProtection || workspace.PurgeAfter is null || now >= workspace.PurgeAfter;
    }

    public static string? RetentionProblem(int days)
        => days is < Workspace.MinRetentionDays or > Workspace.MaxRetentionDays
            ? $"The soft-delete retention is {Workspace.MinRetentionDays} to {Workspace.MaxRetentionDays} days."
            : null;

    /// Marks the workspace deleted, then soft-deletes its blobs. Idempotent: run again after a crash, it
    /// soft-deletes what is still live.
    public static async Task SoftDeleteAsync(LetheDb db, IBlobStore blobs, Workspace workspace, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.DeletedAt is null)
        {
            workspace.DeletedAt = now;
            workspace.PurgeAfter = PurgeAfter(now, workspace.SoftDeleteRetentionDays);
            await db.SaveChangesAsync(ct);
        }
        await blobs.SoftDeletePrefixAsync(workspace.StorageAccount, "", ct);
    }

    /// Undeletes the blobs the workspace delete soft-deleted (not those deleted on their own before it),
    /// then makes the workspace live again.
    public static async Task RecoverAsync(LetheDb db, IBlobStore blobs, Workspace workspace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.DeletedAt is { } deletedAt)
        {
            var names = new List<string>();
            await foreach (var blob in blobs.ListDeletedAsync(workspace.StorageAccount, null, ct))
            {
                // The workspace's time was taken before its blobs were soft-deleted; blobs deleted on their own
                // before it stay deleted. (PostgreSQL keeps microseconds, which only moves the time earlier.)
                if (blob.DeletedAt >= deletedAt)
                {
                    names.Add(blob.Name);
                }
            }
            foreach (var name in names)
            {
                await blobs.UndeleteAsync(workspace.StorageAccount, name, ct);
            }
            workspace.DeletedAt = null;
            workspace.PurgeAfter = null;
            await db.SaveChangesAsync(ct);
        }
    }

    /// Soft-deleted workspaces, as the deleted-workspaces list shows them.
    public static IQueryable<Workspace> SoftDeleted(this IQueryable<Workspace> workspaces) => workspaces.Where(w => w.DeletedAt != null);

    public static IQueryable<Workspace> Live(this IQueryable<Workspace> workspaces) => workspaces.Where(w => w.DeletedAt == null);

    public static Task<Workspace?> FindWorkspaceAsync(this LetheDb db, Guid subscriptionId, string resourceGroup, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(resourceGroup);
        ArgumentNullException.ThrowIfNull(name);
        var group = resourceGroup.ToLowerInvariant();
        var key = name.ToLowerInvariant();
        return db.Workspaces.FirstOrDefaultAsync(w => w.SubscriptionId == subscriptionId && w.ResourceGroupKey == group && w.NameKey == key, ct);
    }
}
