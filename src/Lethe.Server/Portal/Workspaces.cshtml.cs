using Lethe.Client;
using Lethe.Server.Api.Workspaces;
using Lethe.Server.Portal.Shared;
using Lethe.Server.Portal.Workspaces;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal;

/// The workspaces the user can see, with their companion resources; Create workspace in a resource group where
/// they can write (through the API's handler, so the rules are the same).
public sealed class WorkspacesModel(LetheDb db, TelemetryRecorder telemetry, TimeProvider clock) : PageModel
{
    public IReadOnlyList<Workspace> Items { get; private set; } = [];

    public IReadOnlyList<WritableGroup> Groups { get; private set; } = [];

    [TempData]
    public string? Error { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var list = new List<Workspace>();
        foreach (var subscription in await WorkspacePortal.SubscriptionsAsync(db, me, ct))
        {
            list.AddRange(await WorkspacePortal.VisibleAsync(db, me, subscription, deleted: false, ct) ?? []);
        }
        Items = list;
        Groups = await WritableGroup.LoadAsync(db, me, ct);
        await telemetry.RecordAsync(User, "ListWorkspaces", "/workspaces", ct);
    }

    public async Task<IActionResult> OnPostCreateAsync(string? group, string? name, string? location, string? sku, CancellationToken ct)
    {
        if (!WritableGroup.TryParse(group, out var subscriptionId, out var resourceGroup))
        {
            Error = "Choose a resource group.";
            return RedirectToPage();
        }
        if (Guid.TryParse(subscriptionId, out var sub) && WorkspaceNames.WorkspaceNameProblem(name) is null
            && await db.FindWorkspaceAsync(sub, resourceGroup, name!, ct) is not null)
        {
            // The API's PUT also updates: from the portal, Create never changes an existing workspace.
            Error = "A workspace with this name exists in the resource group (or is soft-deleted and holds the name).";
            return RedirectToPage();
        }
        var result = await WorkspaceEndpoints.PutAsync(subscriptionId, resourceGroup, name ?? "", new CreateWorkspaceRequest(location ?? "", new ArmSku(sku ?? "Free")), User, db, clock, ct);
        if (HandlerOutcome.ErrorOf(result) is { } error)
        {
            Error = error;
            return RedirectToPage();
        }
        var path = $"/workspaces/{subscriptionId}/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name!)}";
        await telemetry.RecordAsync(User, "CreateWorkspace", WorkspaceIds.Workspace(sub, resourceGroup, name!).Value, ct);
        TempData["Message"] = $"Created {name} with its storage account, container registry, Application Insights and key vault.";
        return Redirect(path);
    }
}
