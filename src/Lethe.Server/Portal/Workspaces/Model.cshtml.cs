using Lethe.Blobs;
using Lethe.Resources;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Workspaces;

/// A registered model: its versions, each with its files and a Download (a zip streamed as it is made).
public sealed class ModelModel(LetheDb db, IBlobStore blobs, TelemetryRecorder telemetry) : PageModel
{
    public Workspace Workspace { get; private set; } = null!;
    public IReadOnlyList<(WorkspaceAsset Version, IReadOnlyList<BlobItem> Files)> Versions { get; private set; } = [];
    public string Name { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(Guid subscriptionId, string resourceGroup, string name, string model, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Read, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        if (WorkspaceNames.AssetNameProblem(model) is not null)
        {
            return NotFound();
        }
        var key = model.ToLowerInvariant();
        var versions = await db.WorkspaceAssets.AsNoTracking()
            .Where(a => a.WorkspaceId == workspace.Id && a.Kind == AssetKind.Model && a.NameKey == key).OrderByDescending(a => a.Version).ToListAsync(ct);
        if (versions.Count == 0)
        {
            return NotFound();
        }
        var list = new List<(WorkspaceAsset, IReadOnlyList<BlobItem>)>();
        foreach (var version in versions)
        {
            var folder = version.Path ?? ModelBlobs.Folder(key, version.Version);
            var files = new List<BlobItem>();
            await foreach (var blob in blobs.ListAsync(workspace.StorageAccount, folder, ct))
            {
                files.Add(blob with { Name = blob.Name[folder.Length..] });
            }
            list.Add((version, files));
        }
        Workspace = workspace;
        Versions = list;
        Name = versions[0].Name;
        await telemetry.RecordAsync(User, "GetModel", $"{workspace.ResourceId.Value}/models/{Name}", ct);
        return Page();
    }
}
