using Lethe.Resources;

namespace Lethe.Labs;

/// Who sees what in labs: lab admins (Owner or Contributor on the lab or above) everything, lab users
/// their own VMs and the claimable ones.
public static class LabAccess
{
    /// Labs of a subscription on whose scope (or above) the principal holds a role.
    public static IQueryable<Lab> VisibleLabs(this LetheDb db, Guid principalId, Guid subscriptionId)
    {
        ArgumentNullException.ThrowIfNull(db);
        var assignments = db.RoleAssignments.Where(a => a.PrincipalId == principalId && a.Role != Role.PrivacyOfficer);
        return db.Labs.Where(l => l.SubscriptionId == subscriptionId && assignments.Any(a =>
            a.SubscriptionId == null
            || (a.SubscriptionId == l.SubscriptionId && (a.ResourceGroupKey == null
                || (a.ResourceGroupKey == l.ResourceGroupKey && (a.ScopeKey == l.ScopeKey || l.ScopeKey.StartsWith(a.ScopeKey + "/")))))));
    }

    /// The VMs of a lab a principal sees, deleted ones included (callers filter them): all of them for a
    /// lab admin, else their own (live or deleted) and the live claimable ones.
    public static IQueryable<LabVirtualMachine> VisibleVirtualMachines(this LetheDb db, Guid labId, Guid principalId, bool labAdmin)
    {
        ArgumentNullException.ThrowIfNull(db);
        var vms = db.LabVirtualMachines.Where(v => v.LabId == labId);
        return labAdmin ? vms : vms.Where(v => v.OwnerObjectId == principalId || (v.Claimable && v.DeletedAt == null));
    }

    /// The disks of a lab a principal sees, deleted ones included: all for a lab admin, else their own.
    public static IQueryable<LabDisk> VisibleDisks(this LetheDb db, Guid labId, Guid principalId, bool labAdmin)
    {
        ArgumentNullException.ThrowIfNull(db);
        var disks = db.LabDisks.Where(d => d.LabId == labId);
        return labAdmin ? disks : disks.Where(d => d.OwnerObjectId == principalId);
    }

    public static async Task<bool> IsLabAdminAsync(this LetheDb db, Guid principalId, Lab lab, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return await db.CheckAsync(principalId, lab.ResourceId, Right.Write, ct) == AccessDecision.Allowed;
    }
}
