using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// The owners a workspace blob write is fenced on (decision 0071): the workspace, live and not being purged
/// (a soft delete sets <see cref="Workspace.DeletedAt"/>, a purge <see cref="Workspace.Purging"/>, before
/// their blob sweeps), and for a job's blobs the very job it was written for (its
/// <see cref="ExperimentRun.Incarnation"/>: a job deleted and submitted again under the same ID is another).
public static class WorkspaceFence
{
    public static Task<bool> PutAsync(LetheDb db, IBlobStore blobs, Workspace workspace, ExperimentRun? run, string name, Stream content, string? contentType, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return BlobFence.PutAsync(blobs, workspace.StorageAccount, name, content, contentType, c => IsLiveAsync(db, workspace.Id, run, c), ct);
    }

    public static async Task<bool> IsLiveAsync(LetheDb db, Guid workspaceId, ExperimentRun? run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!await db.Workspaces.AnyAsync(w => w.Id == workspaceId && w.DeletedAt == null && !w.Purging, ct))
        {
            return false;
        }
        if (run is null)
        {
            return true;
        }
        var key = run.JobIdKey;
        var incarnation = run.Incarnation;
        return await db.ExperimentRuns.AnyAsync(r => r.WorkspaceId == workspaceId && r.JobIdKey == key && r.Incarnation == incarnation, ct);
    }
}
