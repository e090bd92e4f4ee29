using System.Text.Json;
using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Lethe.Workspaces;

/// A permanent delete: every blob of the workspace (live and soft-deleted), then every row of it and
/// of its companion resources, and the role assignments at its scope. A durable job, so a crash resumes:
/// blobs go first (idempotent), then the rows in one transaction with the job's checkpoint.
public sealed class PurgeWorkspace(LetheDb db, IBlobStore blobs) : IJobHandler
{
    public const string JobKind = "workspaces.purge";

    public sealed record Payload(Guid WorkspaceId);

    public string Kind => JobKind;

    /// Marks the workspace as being purged (it can no longer be recovered, and blob writes into it are
    /// refused: decision 0071) and queues the job, in one save; asked again while that job is live, returns it instead of queueing a second one.
    public static Task<Job> EnqueueAsync(LetheDb db, Workspace workspace, Guid requestedBy, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        workspace.DeletedAt ??= now;
        workspace.PurgeAfter ??= now;
        workspace.Purging = true;
        return JobQueue.EnqueueExclusiveAsync(db, JobKind, JsonSerializer.Serialize(new Payload(workspace.Id)), requestedBy, workspace.ResourceId.Value, clock, ct);
    }

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var payload = JsonSerializer.Deserialize<Payload>(context.Job.Payload)!;
        var workspace = await db.Workspaces.AsNoTracking().FirstOrDefaultAsync(w => w.Id == payload.WorkspaceId, ct);
        if (workspace is not null)
        {
            await blobs.PurgePrefixAsync(workspace.StorageAccount, "", ct);
            await context.CheckpointAsync("""{"blobs":true}""", 50, ct);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await DeleteRowsAsync(db, workspace, ct);
            await context.CheckpointAsync("""{"blobs":true,"rows":true}""", 100, ct);
            await transaction.CommitAsync(ct);
        }
    }

    /// The whole purge without a job: the retention sweep and the resource group delete call it.
    public static async Task PurgeNowAsync(LetheDb db, IBlobStore blobs, Workspace workspace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        // Marked first (decision 0071): a write in flight that finds this mark removes its own blob, and
        // one that checked before it had put its blob already, so the blob sweep below removes it.
        var id = workspace.Id;
        await db.Workspaces.Where(w => w.Id == id && !w.Purging).ExecuteUpdateAsync(s => s.SetProperty(w => w.Purging, true), ct);
        await blobs.PurgePrefixAsync(workspace.StorageAccount, "", ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await DeleteRowsAsync(db, workspace, ct);
        await transaction.CommitAsync(ct);
    }

    private static async Task DeleteRowsAsync(LetheDb db, Workspace workspace, CancellationToken ct)
    {
        var id = workspace.Id;
        var scope = workspace.ResourceId.Key;
        var below = scope + "/";
        await db.RoleAssignments.Where(a => a.ScopeKey == scope || a.ScopeKey.StartsWith(below)).ExecuteDeleteAsync(ct);
        await db.ExperimentRuns.Where(r => r.WorkspaceId == id).ExecuteDeleteAsync(ct);
        await db.WorkspaceAssets.Where(a => a.WorkspaceId == id).ExecuteDeleteAsync(ct);
        await db.WorkspaceMembers.Where(m => m.WorkspaceId == id).ExecuteDeleteAsync(ct);
        await db.Workspaces.Where(w => w.Id == id).ExecuteDeleteAsync(ct);
    }
}

/// The sweep that ends workspace soft delete: a workspace whose retention has ended is purged. A
/// workspace whose purge keeps failing is set aside and reported; the others are purged on time.
public sealed class PurgeExpiredWorkspaces(IBlobStore blobs, LetheDb db, TimeProvider clock, ILogger<PurgeExpiredWorkspaces> logger)
    : RecurringJob(db, clock, logger)
{
    public const string JobKind = "workspaces.purge-expired";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    /// The decision: due once its retention has ended.
    public static bool IsDue(Workspace workspace, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return workspace.DeletedAt is not null && workspace.PurgeAfter is { } after && now >= after;
    }

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        var setAside = SetAsideKeys;
        var due = await Db.Workspaces.AsNoTracking()
            .Where(w => w.DeletedAt != null && w.PurgeAfter != null && w.PurgeAfter <= now && !setAside.Contains(w.Id.ToString().ToLower()))
            .OrderBy(w => w.PurgeAfter).ThenBy(w => w.Id).Take(1000).ToListAsync(ct);
        var purged = 0;
        foreach (var workspace in due)
        {
            if (await TryRecordAsync(workspace.Id.ToString(), c => PurgeWorkspace.PurgeNowAsync(Db, blobs, workspace, c), ct))
            {
                purged++;
            }
        }
        return $$"""{"purged":{{purged}},"failed":{{due.Count - purged}},"setAside":{{await setAside.CountAsync(ct)}}}""";
    }
}

/// Deleting a resource group purges its workspaces, live or soft-deleted, as Azure deletes what a
/// group holds; but purge protection is never bypassed: a protected workspace is soft-deleted (or
/// stays so) until its retention ends, and the retention sweep purges it then.
public sealed class WorkspacesInResourceGroup(LetheDb db, IBlobStore blobs, TimeProvider clock) : Resources.IResourceGroupContent
{
    public string Name => "workspaces";

    /// The decision: until when purge protection keeps the workspace, or null when it may go now.
    public static DateTimeOffset? KeptUntil(Workspace workspace, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!workspace.PurgeProtection)
        {
            return null;
        }
        var until = workspace.DeletedAt is null ? SoftDeleteWorkspace.PurgeAfter(now, workspace.SoftDeleteRetentionDays) : workspace.PurgeAfter;
        return until > now ? until : null;
    }

    public async Task<IReadOnlyList<Resources.KeptResource>> DeleteAllAsync(Guid subscriptionId, string resourceGroupKey, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var kept = new List<Resources.KeptResource>();
        var workspaces = await db.Workspaces.Where(w => w.SubscriptionId == subscriptionId && w.ResourceGroupKey == resourceGroupKey).ToListAsync(ct);
        foreach (var workspace in workspaces)
        {
            if (KeptUntil(workspace, now) is { } until)
            {
                // A crash between here and the checkpoint runs this again: the soft delete is idempotent,
                // and a workspace soft-deleted by the first run keeps the time it got then.
                await SoftDeleteWorkspace.SoftDeleteAsync(db, blobs, workspace, now, ct);
                kept.Add(new(workspace.ResourceId.Value, workspace.PurgeAfter ?? until,
                    "Purge protection: the workspace stays soft-deleted until its retention ends, then the retention sweep purges it."));
                continue;
            }
            await PurgeWorkspace.PurgeNowAsync(db, blobs, workspace, ct);
        }
        return kept;
    }
}
