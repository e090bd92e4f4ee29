using Lethe.Server.Portal.Workspaces;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal;

/// The workspaces the user can see, with their companion resources.
public sealed class WorkspacesModel(LetheDb db, TelemetryRecorder telemetry) : PageModel
{
    public IReadOnlyList<Workspace> Items { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var list = new List<Workspace>();
        foreach (var subscription in await WorkspacePortal.SubscriptionsAsync(db, me, ct))
        {
            list.AddRange(await WorkspacePortal.VisibleAsync(db, me, subscription, deleted: false, ct) ?? []);
        }
        Items = list;
        await telemetry.RecordAsync(User, "ListWorkspaces", "/workspaces", ct);
    }
}
