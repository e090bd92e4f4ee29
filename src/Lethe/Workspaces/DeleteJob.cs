using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Deleting a job removes its record, history document and artifacts for good (seed 001).
public static class DeleteJob
{
    /// The blobs, the row, then the blobs again. The first sweep leaves the row while the blobs go, so a crash
    /// there is finished by deleting again. The second removes what a write in flight put after the first:
    /// such a write checks its job after its put (<see cref="WorkspaceFence"/>), so either it saw the row, put
    /// before this row delete and is swept now, or it finds the job gone and removes its own blob. A crash
    /// between the row and the second sweep leaves at most such blobs, which the orphan sweep removes.
    public static async Task RunAsync(LetheDb db, IBlobStore blobs, Workspace workspace, ExperimentRun run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(run);
        var folder = JobBlobs.Folder(run.JobId);
        await blobs.PurgePrefixAsync(workspace.StorageAccount, folder, ct);
        var key = run.JobIdKey;
        await db.ExperimentRuns.Where(r => r.WorkspaceId == workspace.Id && r.JobIdKey == key).ExecuteDeleteAsync(ct);
        await blobs.PurgePrefixAsync(workspace.StorageAccount, folder, ct);
    }
}
