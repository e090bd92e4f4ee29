using Lethe.Resources;

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
/// so that being a member is what gives access (docs/workspaces.md).
public static class WorkspaceMembers
{
    public static readonly Role[] Roles = [Role.Owner, Role.Contributor, Role.Reader];

    /// Adds or changes a member; the caller saves.
    public static void Put(LetheDb db, Workspace workspace, WorkspaceMember? existing, Guid principalId, string email, string displayName, Role role, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(email);
        var assignment = RoleAssignment.Create(workspace.ResourceId, principalId, role, now);
        // Stored as the privacy engine finds emails: trimmed and lower-cased.
        email = Privacy.SubjectKeys.NormalizeEmail(email);
        if (existing is not null)
        {
            var old = db.RoleAssignments.Where(a => a.Id == existing.RoleAssignmentId);
            db.RoleAssignments.RemoveRange(old);
            existing.Role = role;
            existing.Email = email;
            existing.DisplayName = displayName;
            existing.RoleAssignmentId = assignment.Id;
        }
        else
        {
            db.WorkspaceMembers.Add(new WorkspaceMember
            {
                WorkspaceId = workspace.Id,
                PrincipalId = principalId,
                Email = email,
                DisplayName = displayName,
                Role = role,
                RoleAssignmentId = assignment.Id,
                AddedAt = now,
            });
        }
        db.RoleAssignments.Add(assignment);
    }
}
