using System.Runtime.CompilerServices;
using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// What of the workspaces' blobs has no owner (decision 0071): a container whose workspace is gone (purged),
/// and in a workspace's container the folder of a job that is gone (deleted).
public sealed class WorkspaceBlobOwners(LetheDb db, IBlobStore blobs) : IBlobOwners
{
    public bool Claims(string container) => WorkspaceNames.IsStorageAccountName(container);

    public async IAsyncEnumerable<string> OrphanPrefixesAsync(string container, [EnumeratorCancellation] CancellationToken ct)
    {
        var workspace = await db.Workspaces.AsNoTracking().Where(w => w.StorageAccount == container).Select(w => (Guid?)w.Id).FirstOrDefaultAsync(ct);
        if (workspace is not { } id)
        {
            yield return "";
            yield break;
        }
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var blob in blobs.ListAsync(container, JobBlobs.RunsPrefix, ct).Concat(blobs.ListDeletedAsync(container, JobBlobs.RunsPrefix, ct)).WithCancellation(ct))
        {
            if (JobIdOf(blob.Name) is { } jobId)
            {
                folders.Add(jobId);
            }
        }
        foreach (var jobId in folders)
        {
            var key = jobId.ToLowerInvariant();
            // The folder is named after the job ID as submitted: another case of it is another job.
            if (!await db.ExperimentRuns.AnyAsync(r => r.WorkspaceId == id && r.JobIdKey == key && r.JobId == jobId, ct))
            {
                yield return JobBlobs.Folder(jobId);
            }
        }
    }

    /// The job ID of a blob under <c>azureml/ExperimentRun/dcid.{jobId}/</c>, or null for any other blob.
    public static string? JobIdOf(string blobName)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        const string folder = JobBlobs.RunsPrefix + "dcid.";
        if (!blobName.StartsWith(folder, StringComparison.Ordinal))
        {
            return null;
        }
        var end = blobName.IndexOf('/', folder.Length);
        return end > folder.Length ? blobName[folder.Length..end] : null;
    }
}
