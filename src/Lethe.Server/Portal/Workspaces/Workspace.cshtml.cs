using Lethe.Blobs;
using Lethe.Resources;
using Lethe.Server.Api.Workspaces;
using Lethe.Server.Portal.Shared;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Workspaces;

/// One workspace: its companion resources, members (added and removed by whoever manages access), assets by kind
/// (data assets registered here, each asset with Delete), jobs (archived ones on request), its storage, and Settings
/// with Delete workspace. Deletes ask for confirmation on a page of their own state (no script needed). Actions go
/// through the API's handlers, so the rules are the same; the messages after them are the server's own (TempData).
public sealed class WorkspaceModel(LetheDb db, IBlobStore blobs, TelemetryRecorder telemetry, TimeProvider clock) : PageModel
{
    public Workspace Workspace { get; private set; } = null!;
    public IReadOnlyList<Client.CompanionResource> Companions { get; private set; } = [];
    public IReadOnlyList<WorkspaceMember> Members { get; private set; } = [];
    public IReadOnlyList<WorkspaceAsset> Assets { get; private set; } = [];
    public IReadOnlyList<ExperimentRun> Jobs { get; private set; } = [];

    /// Jobs are shown a page at a time, newest first: <see cref="JobsPage"/> counts from 1.
    public const int JobsPageSize = 50;

    public int JobsPage { get; private set; } = 1;

    /// Whether older jobs follow this page (an "Older jobs" link).
    public bool HasOlderJobs { get; private set; }
    public bool CanWrite { get; private set; }
    public bool CanDelete { get; private set; }
    public bool CanPurge { get; private set; }
    public bool CanManageAccess { get; private set; }

    /// Whether archived jobs are listed too.
    public bool ShowArchived { get; private set; }

    /// The member whose removal awaits confirmation, if any.
    public WorkspaceMember? ConfirmMember { get; private set; }

    /// The asset whose delete awaits confirmation, if any.
    public WorkspaceAsset? ConfirmAsset { get; private set; }

    /// "soft" or "permanent" when a workspace delete awaits confirmation.
    public string? ConfirmWorkspace { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string Path => WorkspacePortal.PathOf(Workspace);

    public async Task<IActionResult> OnGetAsync(
        Guid subscriptionId, string resourceGroup, string name, string? confirmKind, string? confirmName, string? confirmDelete, Guid? confirmMember, bool archived, int? jobsPage, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Read, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        ShowArchived = archived;
        await LoadAsync(workspace, jobsPage ?? 1, ct);
        ConfirmMember = CanManageAccess ? Members.FirstOrDefault(m => m.PrincipalId == confirmMember) : null;
        if (confirmKind is not null && Enum.TryParse<AssetKind>(confirmKind, out var kind) && confirmName is not null)
        {
            ConfirmAsset = Assets.FirstOrDefault(a => a.Kind == kind && string.Equals(a.NameKey, confirmName, StringComparison.OrdinalIgnoreCase));
        }
        ConfirmWorkspace = confirmDelete is "soft" or "permanent" ? confirmDelete : null;
        await telemetry.RecordAsync(User, "GetWorkspace", workspace.ResourceId.Value, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAssetAsync(Guid subscriptionId, string resourceGroup, string name, string kind, string assetName, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Write, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        if (!Enum.TryParse<AssetKind>(kind, out var k) || WorkspaceNames.AssetNameProblem(assetName) is not null)
        {
            return BadRequest();
        }
        var deleted = await DeleteAsset.RunAsync(db, blobs, workspace, k, assetName, ct);
        await telemetry.RecordAsync(User, "DeleteAsset", $"{workspace.ResourceId.Value}/{AssetEndpoints.SegmentOf(k)}/{assetName}", ct);
        Message = deleted ? (k == AssetKind.Data ? $"Unregistered {assetName}; its data stays in storage." : $"Deleted {assetName}.") : $"{assetName} was already gone.";
        return Redirect(WorkspacePortal.PathOf(workspace));
    }

    public async Task<IActionResult> OnPostDeleteWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, string mode, CancellationToken ct)
    {
        var permanent = mode == "permanent";
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, permanent ? Right.Purge : Right.Delete, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        if (permanent)
        {
            if (workspace.PurgeProtection)
            {
                Error = "Purge protection is on: delete the workspace; it is purged when its retention ends.";
                return Redirect(WorkspacePortal.PathOf(workspace));
            }
            await PurgeWorkspace.EnqueueAsync(db, workspace, User.ObjectId(), clock, ct);
        }
        else
        {
            await SoftDeleteWorkspace.SoftDeleteAsync(db, blobs, workspace, clock.GetUtcNow(), ct);
        }
        await telemetry.RecordAsync(User, permanent ? "PurgeWorkspace" : "DeleteWorkspace", workspace.ResourceId.Value, ct);
        Message = permanent ? $"{workspace.Name} is being deleted permanently."
            : $"{workspace.Name} was deleted; it can be recovered until {workspace.PurgeAfter:yyyy-MM-dd}.";
        return Redirect("/workspaces/deleted");
    }

    public async Task<IActionResult> OnPostAddMemberAsync(Guid subscriptionId, string resourceGroup, string name, string? email, string? role, CancellationToken ct)
    {
        var result = await WorkspaceEndpoints.AddMemberAsync(subscriptionId.ToString("D"), resourceGroup, name,
            new Client.AddWorkspaceMemberRequest(role ?? "", null, email?.Trim()), User, db, clock, ct);
        // The email is not echoed back: the message names the role only.
        return await DoneAsync(result, subscriptionId, resourceGroup, name, "AddMember", $"Added the member as {role}.", ct);
    }

    public async Task<IActionResult> OnPostRemoveMemberAsync(Guid subscriptionId, string resourceGroup, string name, string? principalId, CancellationToken ct)
    {
        var result = await WorkspaceEndpoints.RemoveMemberAsync(subscriptionId.ToString("D"), resourceGroup, name, principalId ?? "", User, db, ct);
        return await DoneAsync(result, subscriptionId, resourceGroup, name, "RemoveMember", "Removed the member: their access to the workspace ended.", ct);
    }

    public async Task<IActionResult> OnPostRegisterDataAsync(Guid subscriptionId, string resourceGroup, string name, string? assetName, string? path, string? description, CancellationToken ct)
    {
        var result = await AssetEndpoints.PutAsync(subscriptionId.ToString("D"), resourceGroup, name, Client.AssetKinds.Data, assetName ?? "",
            new Client.PutAssetRequest(string.IsNullOrWhiteSpace(description) ? null : description.Trim(), path?.Trim()), User, db, blobs, clock, ct);
        return await DoneAsync(result, subscriptionId, resourceGroup, name, "RegisterData", $"Registered data asset {assetName}.", ct);
    }

    /// The API handler's answer as the page's message (the problem's words when it refused).
    private async Task<IActionResult> DoneAsync(IResult result, Guid subscriptionId, string resourceGroup, string name, string action, string success, CancellationToken ct)
    {
        if (HandlerOutcome.ErrorOf(result) is { } error)
        {
            Error = error;
        }
        else
        {
            Message = success;
            await telemetry.RecordAsync(User, action, WorkspaceIds.Workspace(subscriptionId, resourceGroup, name).Value, ct);
        }
        return Redirect($"/workspaces/{subscriptionId:D}/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name)}");
    }

    public async Task<IActionResult> OnGetDownloadModelAsync(Guid subscriptionId, string resourceGroup, string name, string model, int version, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Read, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        var key = model.ToLowerInvariant();
        var asset = await db.WorkspaceAssets.AsNoTracking().FirstOrDefaultAsync(a => a.WorkspaceId == workspace.Id && a.Kind == AssetKind.Model && a.NameKey == key && a.Version == version, ct);
        if (asset is null)
        {
            return NotFound();
        }
        await telemetry.RecordAsync(User, "DownloadModel", $"{workspace.ResourceId.Value}/models/{asset.Name}/versions/{version}", ct);
        var folder = asset.Path ?? ModelBlobs.Folder(key, version);
        return new ZipDownload($"{asset.Name}-{version}.zip", (body, token) => ArtifactArchive.WriteAsync(blobs, workspace.StorageAccount, folder, body, null, token));
    }

    private async Task LoadAsync(Workspace workspace, int jobsPage, CancellationToken ct)
    {
        Workspace = workspace;
        Companions = WorkspaceEndpoints.Companions(workspace);
        Members = await db.WorkspaceMembers.AsNoTracking().Where(m => m.WorkspaceId == workspace.Id).OrderBy(m => m.AddedAt).ToListAsync(ct);
        var assets = await db.WorkspaceAssets.AsNoTracking().Where(a => a.WorkspaceId == workspace.Id).OrderBy(a => a.Kind).ThenBy(a => a.NameKey).ThenByDescending(a => a.Version).ToListAsync(ct);
        Assets = assets.GroupBy(a => (a.Kind, a.NameKey)).Select(g => g.First()).ToList();
        // One more than a page tells whether older jobs follow; the job ID keeps one order among jobs submitted at the same instant.
        JobsPage = Math.Clamp(jobsPage, 1, int.MaxValue / JobsPageSize);
        var jobs = await db.ExperimentRuns.AsNoTracking().Where(r => r.WorkspaceId == workspace.Id && (ShowArchived || r.ArchivedAt == null))
            .OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.JobIdKey).Skip((JobsPage - 1) * JobsPageSize).Take(JobsPageSize + 1).ToListAsync(ct);
        HasOlderJobs = jobs.Count > JobsPageSize;
        Jobs = jobs.Take(JobsPageSize).ToList();
        var me = User.ObjectId();
        CanWrite = await db.CheckAsync(me, workspace.ResourceId, Right.Write, ct) == AccessDecision.Allowed;
        CanDelete = await db.CheckAsync(me, workspace.ResourceId, Right.Delete, ct) == AccessDecision.Allowed;
        CanPurge = await db.CheckAsync(me, workspace.ResourceId, Right.Purge, ct) == AccessDecision.Allowed;
        CanManageAccess = await db.CheckAsync(me, workspace.ResourceId, Right.ManageAccess, ct) == AccessDecision.Allowed;
    }

    public static string KindTitle(AssetKind kind) => kind switch
    {
        AssetKind.Data => "Data assets",
        AssetKind.Model => "Models",
        AssetKind.Notebook => "Notebooks",
        AssetKind.Pipeline => "Pipelines",
        AssetKind.Compute => "Compute",
        _ => "Experiments",
    };
}
