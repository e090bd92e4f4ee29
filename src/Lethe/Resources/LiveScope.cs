using Microsoft.EntityFrameworkCore;

namespace Lethe.Resources;

/// Decision 0071: a role assignment is a write like any other, fenced against the delete of its scope. It is made
/// only at a scope that exists, and checked again once it is committed: the deletes remove a scope's row (or mark
/// it deleted) first and its role assignments after, so either the check sees the mark and the write takes its
/// assignment back, or the write committed before the mark and the delete's removal finds it.
public static class LiveScope
{
    private const string Labs = "microsoft.devtestlab/labs";
    private const string Workspaces = "microsoft.machinelearningservices/workspaces";

    /// True when every resource on the way to <paramref name="scope"/> that Lethe holds exists and is live: the
    /// subscription, the resource group, a lab (and its VM or disk, not deleted) or a workspace (neither
    /// soft-deleted nor being purged). Resource types Lethe does not hold are checked up to their group.
    public static async Task<bool> ExistsAsync(LetheDb db, ResourceId scope, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.SubscriptionId is not { } subscription)
        {
            return true;
        }
        if (!await db.Subscriptions.AnyAsync(s => s.Id == subscription, ct))
        {
            return false;
        }
        if (scope.ResourceGroup is null)
        {
            return true;
        }
        var group = scope.ResourceGroup.ToLowerInvariant();
        if (!await db.ResourceGroups.AnyAsync(g => g.SubscriptionId == subscription && g.NameKey == group, ct))
        {
            return false;
        }
        if (scope.Segments.Count == 0)
        {
            return true;
        }
        var top = $"{scope.ProviderNamespace}/{scope.Segments[0].Type}".ToLowerInvariant();
        var name = scope.Segments[0].Name.ToLowerInvariant();
        if (top == Workspaces)
        {
            return await db.Workspaces.AnyAsync(w => w.SubscriptionId == subscription && w.ResourceGroupKey == group && w.NameKey == name && w.DeletedAt == null && !w.Purging, ct);
        }
        if (top != Labs)
        {
            return true;
        }
        var labKey = scope.ScopesFromRoot().First(s => s.Segments.Count == 1).Key;
        var lab = await db.Labs.AsNoTracking().Where(l => l.ScopeKey == labKey).Select(l => (Guid?)l.Id).FirstOrDefaultAsync(ct);
        if (lab is not { } labId)
        {
            return false;
        }
        if (scope.Segments.Count == 1)
        {
            return true;
        }
        var child = scope.Segments[1];
        var childKey = child.Name.ToLowerInvariant();
        return child.Type.ToLowerInvariant() switch
        {
            "virtualmachines" => await db.LabVirtualMachines.AnyAsync(v => v.LabId == labId && v.NameKey == childKey && v.DeletedAt == null, ct),
            "disks" => await db.LabDisks.AnyAsync(d => d.LabId == labId && d.NameKey == childKey && d.DeletedAt == null, ct),
            _ => true,
        };
    }

    /// Removes the role assignments at <paramref name="scopeKey"/> and below: the last step of a delete, after its
    /// row is gone or marked.
    public static Task<int> RemoveAssignmentsAsync(LetheDb db, string scopeKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var below = scopeKey + "/";
        return db.RoleAssignments.Where(a => a.ScopeKey == scopeKey || a.ScopeKey.StartsWith(below)).ExecuteDeleteAsync(ct);
    }
}
