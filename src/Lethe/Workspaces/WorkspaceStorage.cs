using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Seed 001: the job history documents "are stored in the storage account in blob storage, in /azureml subfolders.
/// You can download and delete the data." The workspace's storage browsed by folder, and deleted blob by blob.
public static class WorkspaceStorage
{
    /// One level of a folder: its sub-folders (each ending with '/') and its blobs.
    public sealed record Folder(string Prefix, IReadOnlyList<string> Folders, IReadOnlyList<BlobItem> Blobs, bool Truncated);

    /// At most this many blobs are walked for one folder view: a browser page, not an export.
    public const int MaxListed = 5000;

    /// The folders and blobs directly under <paramref name="prefix"/> ("" or a path ending with '/').
    public static async Task<Folder> BrowseAsync(IBlobStore blobs, string container, string prefix, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(prefix);
        var folders = new List<string>();
        var items = new List<BlobItem>();
        var seen = 0;
        await foreach (var blob in blobs.ListAsync(container, prefix, ct))
        {
            if (++seen > MaxListed)
            {
                return new(prefix, folders, items, Truncated: true);
            }
            var rest = blob.Name[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                items.Add(blob);
            }
            else if (folders.Count == 0 || folders[^1] != rest[..(slash + 1)])
            {
                // The list is ordered by name, so a folder's blobs come together.
                folders.Add(rest[..(slash + 1)]);
            }
        }
        return new(prefix, folders, items, Truncated: false);
    }

    /// Deletes one blob. Job files (under azureml/) hold personal data and are removed for good: a history document the
    /// user deleted cannot come back with a workspace recovery. Deleting a job's history document marks the job as
    /// having none. Other data is soft-deleted, as the storage
    /// account's own soft delete does. False when there was nothing to delete.
    public static async Task<bool> DeleteAsync(LetheDb db, IBlobStore blobs, Workspace workspace, string path, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith(JobBlobs.Root, StringComparison.Ordinal))
        {
            return await blobs.SoftDeleteAsync(workspace.StorageAccount, path, ct);
        }
        // The blob first, then the mark: a marked job's document is gone for sure (the privacy engine relies on it),
        // and a retry after a crash between the two still marks the job.
        var purged = await blobs.PurgeAsync(workspace.StorageAccount, path, ct);
        var marked = 0;
        if (JobBlobs.JobOfHistoryDocument(path) is { } jobId)
        {
            var key = jobId.ToLowerInvariant();
            marked = await db.ExperimentRuns
                .Where(r => r.WorkspaceId == workspace.Id && r.JobIdKey == key && r.JobId == jobId && r.HistoryDocumentDeletedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.HistoryDocumentDeletedAt, now), ct);
        }
        return purged || marked > 0;
    }
}
