using Microsoft.EntityFrameworkCore;

namespace Lethe.Resources;

public enum Right
{
    /// List and read, download.
    Read,
    /// Create and change things below the scope, delete assets.
    Write,
    /// Delete the resource at the scope itself (a workspace, a lab, a resource group).
    Delete,
    /// Delete permanently, before retention ends.
    Purge,
    /// Grant and revoke role assignments.
    ManageAccess,
    /// Use a lab: claim VMs, manage one's own VMs.
    UseLab,
    /// Handle subject requests on behalf of others and read the audit log.
    HandlePrivacyRequests,
}

public enum AccessDecision
{
    Allowed,
    /// The principal can see the resource but lacks the right: 403.
    Forbidden,
    /// The principal has no role anywhere above the resource: 404, so that existence does not leak.
    NotFound,
}

/// Who may do what: a pure decision over the roles a principal holds on a target's scopes.
public static class Access
{
    public static bool Grants(Role role, Right right) => role switch
    {
        Role.Owner => right != Right.HandlePrivacyRequests,
        Role.Contributor => right is Right.Read or Right.Write or Right.UseLab,
        Role.Reader => right is Right.Read,
        Role.LabUser => right is Right.Read or Right.UseLab,
        Role.PrivacyOfficer => right is Right.HandlePrivacyRequests,
        Role.Purger => right is Right.Read or Right.Purge,
        _ => false,
    };

    /// <paramref name="rolesOnScopes"/>: the roles the principal holds on the target or any scope above it.
    public static AccessDecision Decide(IEnumerable<Role> rolesOnScopes, Right right)
    {
        var any = false;
        foreach (var role in rolesOnScopes)
        {
            if (Grants(role, right))
            {
                return AccessDecision.Allowed;
            }
            // A privacy officer role alone does not make resources visible.
            any |= role != Role.PrivacyOfficer;
        }
        return any ? AccessDecision.Forbidden : AccessDecision.NotFound;
    }

    /// The shell: one index seek on (PrincipalId, ScopeKey) over the target's ancestor scopes.
    public static async Task<AccessDecision> CheckAsync(this LetheDb db, Guid principalId, ResourceId target, Right right, CancellationToken ct)
    {
        var roles = await db.RolesOnScopes(principalId, target).ToListAsync(ct);
        return Decide(roles, right);
    }

    public static IQueryable<Role> RolesOnScopes(this LetheDb db, Guid principalId, ResourceId target)
    {
        var keys = target.ScopesFromRoot().Select(s => s.Key).ToArray();
        return db.RoleAssignments.Where(a => a.PrincipalId == principalId && keys.Contains(a.ScopeKey)).Select(a => a.Role);
    }

    /// Every role the principal holds, scope by scope: what `/me` and the portal's home page list.
    public static IQueryable<RoleAssignment> RolesOf(this LetheDb db, Guid principalId)
        => db.RoleAssignments.AsNoTracking().Where(a => a.PrincipalId == principalId).OrderBy(a => a.ScopeKey).ThenBy(a => a.Role);

    /// Subscriptions the principal can see: those it holds a role in or below, or all of them for a root role.
    public static IQueryable<Subscription> VisibleSubscriptions(this LetheDb db, Guid principalId)
    {
        var assignments = db.RoleAssignments.Where(a => a.PrincipalId == principalId && a.Role != Role.PrivacyOfficer);
        return db.Subscriptions.Where(s => assignments.Any(a => a.SubscriptionId == null || a.SubscriptionId == s.Id));
    }

    /// Resource groups of a subscription the principal can see.
    public static IQueryable<ResourceGroup> VisibleResourceGroups(this LetheDb db, Guid principalId, Guid subscriptionId)
    {
        var assignments = db.RoleAssignments.Where(a => a.PrincipalId == principalId && a.Role != Role.PrivacyOfficer);
        return db.ResourceGroups.Where(g => g.SubscriptionId == subscriptionId && assignments.Any(a =>
            a.SubscriptionId == null
            || (a.SubscriptionId == g.SubscriptionId && (a.ResourceGroupKey == null || a.ResourceGroupKey == g.NameKey))));
    }
}
