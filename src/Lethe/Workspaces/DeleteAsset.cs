using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Deleting an asset of any kind (seed 000: "delete individual assets"). A data asset is unregistered: the
/// data it points at stays in storage (seed 001), deleted there on its own. A model goes with its files.
public static class DeleteAsset
{
    /// False when there was no such asset.
    public static async Task<bool> RunAsync(LetheDb db, IBlobStore blobs, Workspace workspace, AssetKind kind, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(name);
        var key = name.ToLowerInvariant();
        var id = workspace.Id;
        var assets = db.WorkspaceAssets.Where(a => a.WorkspaceId == id && a.Kind == kind && a.NameKey == key);
        if (!await assets.AnyAsync(ct))
        {
            return false;
        }
        if (kind == AssetKind.Model)
        {
            // The files first: a crash leaves the row, and deleting again removes what is left.
            await blobs.PurgePrefixAsync(workspace.StorageAccount, ModelBlobs.Root + key + "/", ct);
        }
        await assets.ExecuteDeleteAsync(ct);
        return true;
    }
}
