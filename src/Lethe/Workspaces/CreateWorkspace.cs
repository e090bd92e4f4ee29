using Lethe.Resources;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Creating a workspace creates its companion resources with it (seed 001): a storage account (whose
/// container holds the workspace's blobs), a container registry, an Application Insights instance and a
/// key vault, each with an Azure-style ID of its own in the same resource group.
public static class CreateWorkspace
{
    public static Workspace New(ResourceGroup group, string name, string location, WorkspaceSku sku, int retentionDays, bool purgeProtection, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(name);
        var (storage, registry, insights, vault) = WorkspaceNames.CompanionNames(name);
        return new Workspace
        {
            Id = Guid.CreateVersion7(now),
            SubscriptionId = group.SubscriptionId,
            ResourceGroup = group.Name,
            ResourceGroupKey = group.NameKey,
            Name = name,
            NameKey = name.ToLowerInvariant(),
            Location = location,
            Sku = sku,
            SoftDeleteRetentionDays = retentionDays,
            PurgeProtection = purgeProtection,
            StorageAccount = storage,
            ContainerRegistry = registry,
            ApplicationInsights = insights,
            KeyVault = vault,
            CreatedAt = now,
        };
    }
}

/// Members are a workspace concept, and each also holds a role assignment at the workspace's scope,
/// so that being a member is what gives access (docs/workspaces.md). The member row names its assignment
/// (<see cref="WorkspaceMember.RoleAssignmentId"/>); every change to a member is one transaction, and a change
/// or removal is conditional on the assignment the caller read, so two requests at once can never leave an
/// assignment that no member names (decision 0070).
public static class WorkspaceMembers
{
    public static readonly Role[] Roles = [Role.Owner, Role.Contributor, Role.Reader];

    /// Adds the first members of a workspace being created, with their role assignments; the caller saves with the
    /// workspace (one SaveChanges is one transaction).
    public static void Add(LetheDb db, Workspace workspace, Guid principalId, string email, string displayName, Role role, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        var (member, assignment) = New(workspace, principalId, email, displayName, role, now);
        db.WorkspaceMembers.Add(member);
        db.RoleAssignments.Add(assignment);
    }

    /// Adds a member to an existing workspace, with its role assignment, in one transaction. A second add of the same
    /// principal at the same time fails on the member's primary key and adds nothing. The member row is written first,
    /// as in every change of a member, so that two changes at once lock in one order and never deadlock.
    public static async Task AddAsync(LetheDb db, Workspace workspace, Guid principalId, string email, string displayName, Role role, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var (member, assignment) = New(workspace, principalId, email, displayName, role, now);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.WorkspaceMembers.Add(member);
        await db.SaveChangesAsync(ct);
        db.RoleAssignments.Add(assignment);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    private static (WorkspaceMember Member, RoleAssignment Assignment) New(Workspace workspace, Guid principalId, string email, string displayName, Role role, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(email);
        var assignment = RoleAssignment.Create(workspace.ResourceId, principalId, role, now);
        var member = new WorkspaceMember
        {
            WorkspaceId = workspace.Id,
            PrincipalId = principalId,
            // Stored as the privacy engine finds emails: trimmed and lower-cased.
            Email = Privacy.SubjectKeys.NormalizeEmail(email),
            DisplayName = displayName,
            Role = role,
            RoleAssignmentId = assignment.Id,
            AddedAt = now,
        };
        return (member, assignment);
    }

    /// Gives an existing member another role: the new assignment replaces the one <paramref name="member"/> names,
    /// only if the member still names it. False when another request changed or removed the member meanwhile
    /// (nothing written).
    public static async Task<bool> ChangeRoleAsync(LetheDb db, Workspace workspace, WorkspaceMember member, Role role, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(member);
        var assignment = RoleAssignment.Create(workspace.ResourceId, member.PrincipalId, role, now);
        var old = member.RoleAssignmentId;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var changed = await Named(db, member, old).ExecuteUpdateAsync(set => set
            .SetProperty(m => m.Role, role)
            .SetProperty(m => m.RoleAssignmentId, assignment.Id), ct);
        if (changed == 0)
        {
            return false;
        }
        await db.RoleAssignments.Where(a => a.Id == old).ExecuteDeleteAsync(ct);
        db.RoleAssignments.Add(assignment);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// Removes a member and the assignment it names, only if it still names the one the caller read. False when
    /// another request changed or removed the member meanwhile (nothing written).
    public static async Task<bool> RemoveAsync(LetheDb db, WorkspaceMember member, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(member);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (await Named(db, member, member.RoleAssignmentId).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }
        await db.RoleAssignments.Where(a => a.Id == member.RoleAssignmentId).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    // The member row as the caller read it: the condition that makes a change lose to one committed meanwhile.
    private static IQueryable<WorkspaceMember> Named(LetheDb db, WorkspaceMember member, Guid assignmentId)
        => db.WorkspaceMembers.Where(m => m.WorkspaceId == member.WorkspaceId && m.PrincipalId == member.PrincipalId && m.RoleAssignmentId == assignmentId);
}
