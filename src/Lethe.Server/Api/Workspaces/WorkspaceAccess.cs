using System.Security.Claims;
using Lethe.Resources;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Workspaces;

/// The route's workspace, validated, access-checked and loaded: either the workspace or the problem to answer.
internal sealed record WorkspaceLookup(Workspace? Workspace, IResult? Problem, Guid Principal);

internal static class WorkspaceAccess
{
    /// Validates the path, checks <paramref name="right"/> on the workspace's resource ID, then loads it
    /// (a live one, or a soft-deleted one when <paramref name="deleted"/>). No role on the path: 404.
    public static async Task<WorkspaceLookup> LoadAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, ClaimsPrincipal principal, LetheDb db, Right right, CancellationToken ct, bool deleted = false, bool tracking = false)
    {
        var me = principal.ObjectId();
        if (!ResourceEndpoints.TryParseGroup(subscriptionId, resourceGroupName, out var group, out var invalid))
        {
            return new(null, invalid, me);
        }
        if (WorkspaceNames.WorkspaceNameProblem(workspaceName) is { } nameProblem)
        {
            return new(null, Problems.Invalid("workspaceName", nameProblem), me);
        }
        var id = WorkspaceIds.Workspace(group.SubscriptionId!.Value, group.ResourceGroup!, workspaceName);
        var decision = await db.CheckAsync(me, id, right, ct);
        if (decision != AccessDecision.Allowed)
        {
            return new(null, Problems.Denied(decision, "The workspace", right), me);
        }
        var groupKey = group.ResourceGroup!.ToLowerInvariant();
        var key = workspaceName.ToLowerInvariant();
        var query = db.Workspaces.Where(w => w.SubscriptionId == group.SubscriptionId && w.ResourceGroupKey == groupKey && w.NameKey == key);
        query = deleted ? query.Where(w => w.DeletedAt != null) : query.Where(w => w.DeletedAt == null);
        var workspace = await (tracking ? query : query.AsNoTracking()).FirstOrDefaultAsync(ct);
        return workspace is null ? new(null, Problems.NotFound("The workspace"), me) : new(workspace, null, me);
    }
}
