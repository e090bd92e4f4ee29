using System.Security.Claims;
using Lethe.Resources;
using Lethe.Server.Api.Workspaces;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Workspaces;

/// What the workspace pages share: the route's workspace, loaded when the signed-in user holds the right
/// on it (null otherwise: the page answers 404 or 403 as the API does), and the telemetry of portal actions.
public static class WorkspacePortal
{
    public static string PathOf(Workspace w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return $"/workspaces/{w.SubscriptionId:D}/{Uri.EscapeDataString(w.ResourceGroup)}/{Uri.EscapeDataString(w.Name)}";
    }

    public static async Task<(Workspace? Workspace, AccessDecision Decision)> LoadAsync(
        LetheDb db, ClaimsPrincipal user, Guid subscriptionId, string resourceGroup, string name, Right right, CancellationToken ct, bool deleted = false)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (ResourceId.NameProblem(resourceGroup, "resource group name") is not null || WorkspaceNames.WorkspaceNameProblem(name) is not null)
        {
            return (null, AccessDecision.NotFound);
        }
        var id = WorkspaceIds.Workspace(subscriptionId, resourceGroup, name);
        var decision = await db.CheckAsync(user.ObjectId(), id, right, ct);
        if (decision != AccessDecision.Allowed)
        {
            return (null, decision);
        }
        var workspace = await db.FindWorkspaceAsync(subscriptionId, resourceGroup, name, ct);
        return workspace is null || (workspace.DeletedAt is not null) != deleted ? (null, AccessDecision.NotFound) : (workspace, decision);
    }

    public static Task RecordAsync(this TelemetryRecorder recorder, ClaimsPrincipal user, string action, string resource, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        return recorder.RecordAsync(user.ObjectId(), "workspaces.portal." + action, resource, ct);
    }

    public static Task<List<Workspace>?> VisibleAsync(LetheDb db, Guid me, Guid subscriptionId, bool deleted, CancellationToken ct)
        => WorkspaceEndpoints.VisibleAsync(db, me, subscriptionId, null, deleted, ct);

    public static async Task<List<Guid>> SubscriptionsAsync(LetheDb db, Guid me, CancellationToken ct)
        => await db.VisibleSubscriptions(me).AsNoTracking().OrderBy(s => s.DisplayName).Select(s => s.Id).Take(50).ToListAsync(ct);
}
