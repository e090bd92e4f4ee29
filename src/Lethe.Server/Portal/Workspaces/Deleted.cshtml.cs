using Lethe.Blobs;
using Lethe.Resources;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Workspaces;

/// Soft-deleted workspaces: Recover, or Delete permanently (after a confirmation).
public sealed class DeletedModel(LetheDb db, IBlobStore blobs, TelemetryRecorder telemetry, TimeProvider clock) : PageModel
{
    public IReadOnlyList<Workspace> Items { get; private set; } = [];
    /// Set by the action that redirected here: the server's own words, never text from the URL.
    [TempData]
    public string? Message { get; set; }

    /// The workspace whose permanent delete awaits confirmation.
    public Workspace? Confirm { get; private set; }

    public async Task OnGetAsync(Guid? confirmSubscription, string? confirmGroup, string? confirmName, CancellationToken ct)
    {
        var me = User.ObjectId();
        var list = new List<Workspace>();
        foreach (var subscription in await WorkspacePortal.SubscriptionsAsync(db, me, ct))
        {
            list.AddRange(await WorkspacePortal.VisibleAsync(db, me, subscription, deleted: true, ct) ?? []);
        }
        Items = list;
        Confirm = list.FirstOrDefault(w => w.SubscriptionId == confirmSubscription
            && string.Equals(w.ResourceGroup, confirmGroup, StringComparison.OrdinalIgnoreCase) && string.Equals(w.Name, confirmName, StringComparison.OrdinalIgnoreCase));
        await telemetry.RecordAsync(User, "ListDeletedWorkspaces", "/workspaces/deleted", ct);
    }

    public async Task<IActionResult> OnPostRecoverAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Delete, ct, deleted: true);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        if (workspace.Purging)
        {
            Message = $"{workspace.Name} is being purged and cannot be recovered.";
            return Redirect("/workspaces/deleted");
        }
        await SoftDeleteWorkspace.RecoverAsync(db, blobs, workspace, ct);
        await telemetry.RecordAsync(User, "RecoverWorkspace", workspace.ResourceId.Value, ct);
        Message = $"Recovered {workspace.Name} with all its assets and data.";
        return Redirect(WorkspacePortal.PathOf(workspace));
    }

    public async Task<IActionResult> OnPostPurgeAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct)
    {
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Purge, ct, deleted: true);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        if (!SoftDeleteWorkspace.CanPurgeNow(workspace, clock.GetUtcNow()))
        {
            Message = $"Purge protection is on: {workspace.Name} is purged when its retention ends.";
            return Redirect("/workspaces/deleted");
        }
        if (!workspace.Purging)
        {
            await PurgeWorkspace.EnqueueAsync(db, workspace, User.ObjectId(), clock, ct);
        }
        await telemetry.RecordAsync(User, "PurgeWorkspace", workspace.ResourceId.Value, ct);
        Message = $"{workspace.Name} is being deleted permanently.";
        return Redirect("/workspaces/deleted");
    }
}
